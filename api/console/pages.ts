/**
 * The console page (GET /console, served by api/chat/web-assets.ts from the console bundle): an
 * empty document that loads console.js under its content hash, with the relay's strict page CSP
 * (api/chat/pages.ts: scripts and connections to this origin only, no inline script or style, Trusted
 * Types; the TOTP QR code is a data: image). An invitation link's token is in the fragment
 * (#invite=…), which browsers never send, so it reaches no log.
 */
import { escapeHtml } from '../chat/pages.js';

export function consolePage(scriptPath: string): string {
  return `<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Bloonio Console</title>
<script src="${escapeHtml(scriptPath)}" defer></script>
</head>
<body></body>
</html>
`;
}
