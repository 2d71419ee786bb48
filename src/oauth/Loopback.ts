/**
 * Loopback hosts: the only ones plain http (and a bearer token over it) may go to. Kept apart
 * from the HTTP code so read-only commands (status) do not load the HTTP client.
 */

/** 127.0.0.0/8, `localhost` (and `*.localhost`), `::1`. Brackets of IPv6 URL hosts are accepted. */
export const isLoopbackHost = (host: string): boolean => {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "").replace(/\.$/, "")
  if (h === "localhost" || h.endsWith(".localhost")) return true
  if (h === "::1" || h === "0:0:0:0:0:0:0:1" || h === "::ffff:127.0.0.1") return true
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}

