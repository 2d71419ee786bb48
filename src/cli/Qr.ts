/** A QR code of the verification URL for a terminal (two rows per character). */
import { renderUnicodeCompact } from "uqr"

export const renderQr = (url: string): string => renderUnicodeCompact(url, { border: 1 })
