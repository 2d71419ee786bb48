/**
 * Whether a process id runs, at the CLI edge (signal 0 delivers nothing; `EPERM` means it runs
 * as another user). The daemon lock's judge of a holder killed with `kill -9`.
 */
export const processIsAlive = (pid: number): boolean => {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}
