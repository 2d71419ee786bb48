/**
 * Opening the verification page. A failure is only a warning: the URL and code are already shown.
 */
import { Duration, Effect } from "effect"
import { ChildProcess, ChildProcessSpawner } from "effect/process"

const openerFor = (platform: string, url: string): readonly [string, ReadonlyArray<string>] =>
  platform === "darwin" ? ["open", [url]] : platform === "win32" ? ["cmd", ["/c", "start", "", url]] : ["xdg-open", [url]]

/** Starts the system browser on `url`; fails with a short reason. */
export const openBrowser = (url: string, platform: string) =>
  Effect.gen(function*() {
    const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
    const [command, args] = openerFor(platform, url)
    const code = yield* Effect.scoped(
      spawner.spawn(ChildProcess.make(command, args, { stdin: "ignore", stdout: "ignore", stderr: "ignore" })).pipe(
        Effect.flatMap((handle) => handle.exitCode)
      )
    ).pipe(
      Effect.timeout(Duration.seconds(5)),
      Effect.mapError((e) => (e._tag === "TimeoutError" ? "the browser did not start in time" : `${command} failed`))
    )
    if (code !== 0) return yield* Effect.fail(`${command} exited with ${code}`)
  })
