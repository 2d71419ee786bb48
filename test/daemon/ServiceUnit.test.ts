/**
 * Rendering of the service definitions: systemd's quoting (`%` and `$` are specifiers and
 * variables there), XML escaping for launchd, and refusal of a value with a line break.
 */
import { describe, expect, it } from "vitest"
import { isNpxCache, renderLaunchd, renderSystemd, ServiceUnitError } from "../../src/daemon/ServiceUnit.ts"

const input = (binPath: string, value = "v") => ({ nodePath: "/opt/node 22/bin/node", binPath, environment: [["QWEN_HOME", value]] as const })

describe("ServiceUnit", () => {
  it("quotes systemd words and assignments: spaces kept, quotes and backslashes escaped, % doubled, $ doubled in ExecStart", () => {
    const unit = renderSystemd(input(`/home/a "b"/100%/$HOME\\x/cli.js`, `/home/a b/50%/$X`))
    expect(unit).toContain(`ExecStart="/opt/node 22/bin/node" "/home/a \\"b\\"/100%%/$$HOME\\\\x/cli.js" "daemon"`)
    expect(unit).toContain(`Environment="QWEN_HOME=/home/a b/50%%/$X"`)
  })

  it("escapes XML in the launchd agent", () => {
    const plist = renderLaunchd(input("/Users/a&b/<cli>.js", `x"y`), "/Users/a&b")
    expect(plist).toContain("<string>/Users/a&amp;b/&lt;cli&gt;.js</string>")
    expect(plist).toContain("<string>x&quot;y</string>")
    expect(plist).toContain("<string>/Users/a&amp;b/Library/Logs/qwen-auth.log</string>")
  })

  it("refuses a value with a line break (it would end the line and inject another)", () => {
    expect(() => renderSystemd(input("/x/cli.js", "a\nExecStartPre=/bin/evil"))).toThrow(ServiceUnitError)
    expect(() => renderLaunchd(input("/x/cli.js", "a\nb"), "/Users/a")).toThrow(ServiceUnitError)
  })

  it("recognises npx's cache", () => {
    expect(isNpxCache("/home/u/.npm/_npx/8f3a/node_modules/qwen-portal-auth/dist/cli.js")).toBe(true)
    expect(isNpxCache("/usr/lib/node_modules/qwen-portal-auth/dist/cli.js")).toBe(false)
  })
})
