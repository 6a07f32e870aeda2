/**
 * The dashboard's HTML shell (`GET /ui`): header, navigation, token form and the
 * `<main>` that `app_js.ts` renders each page into. No inline script or style
 * (the route's Content-Security-Policy forbids them).
 * @module
 */

/** The HTML of `GET /ui`. */
export const PAGE_HTML: string = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kafka-analog dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/style.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
  <span class="brand">kafka-analog</span>
  <nav aria-label="Dashboard sections">
    <a href="#/cluster">Cluster</a>
    <a href="#/topics">Topics</a>
    <a href="#/groups">Consumer groups</a>
    <a href="#/throughput">Throughput</a>
  </nav>
  <span id="live" role="status" aria-live="polite"></span>
</header>
<div id="auth" class="auth" hidden>
  <form id="auth-form">
    <p id="auth-message">This gateway requires a bearer token.</p>
    <label for="auth-token">Bearer token <input id="auth-token" type="password" autocomplete="off" required></label>
    <button type="submit">Use token</button>
  </form>
</div>
<main id="main" tabindex="-1"></main>
<div id="toast" class="toast" role="status" aria-live="polite" hidden></div>
<script src="/ui/app.js" defer></script>
</body>
</html>
`;
