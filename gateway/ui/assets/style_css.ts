/**
 * The dashboard's stylesheet (`GET /ui/style.css`): readable at 1280×800 and, below
 * 640 px, on a phone; visible focus rings for keyboard use.
 * @module
 */

/** The CSS of `GET /ui/style.css`. */
export const STYLE_CSS: string = String.raw`:root {
  --bg: #f8fafc; --fg: #0f172a; --muted: #475569; --line: #cbd5e1; --card: #ffffff;
  --accent: #1d4ed8; --danger: #b91c1c; --ok: #15803d; --warn: #b45309; --focus: #f59e0b;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 15px;
  color: var(--fg); background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; line-height: 1.45; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--card); padding: 8px; z-index: 10; }
.skip:focus { left: 8px; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 24px; padding: 10px 24px;
  background: #0f172a; color: #f8fafc; }
.brand { font-weight: 700; font-size: 1.1rem; }
nav { display: flex; flex-wrap: wrap; gap: 4px; }
nav a { color: #e2e8f0; text-decoration: none; padding: 6px 12px; border-radius: 6px; }
nav a:hover { background: #1e293b; }
nav a[aria-current="page"] { background: #1d4ed8; color: #fff; }
#live { margin-left: auto; font-size: 0.85rem; color: #cbd5e1; }
main { padding: 16px 24px 48px; max-width: 1400px; margin: 0 auto; }
main:focus { outline: none; }
h1 { font-size: 1.5rem; margin: 8px 0 16px; }
h2 { font-size: 1.15rem; margin: 24px 0 8px; }
.muted { color: var(--muted); }
.error { color: var(--danger); background: #fef2f2; border: 1px solid #fecaca; padding: 8px 12px; border-radius: 6px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin-bottom: 16px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; min-width: 160px; }
.card-warn { border-color: var(--warn); }
.card-value { display: block; font-size: 1.6rem; font-weight: 700; }
.card-label { color: var(--muted); font-size: 0.85rem; }
.table-wrap { overflow-x: auto; background: var(--card); border: 1px solid var(--line); border-radius: 8px; margin-bottom: 16px; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; padding: 10px 12px; font-weight: 600; }
th, td { text-align: left; padding: 7px 12px; border-top: 1px solid var(--line); vertical-align: top; }
thead th { background: #f1f5f9; font-size: 0.85rem; color: var(--muted); white-space: nowrap; }
.num { font-variant-numeric: tabular-nums; }
.warn { color: var(--warn); font-weight: 600; }
.warn-row { background: #fffbeb; }
.mono, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.82rem; }
pre { margin: 4px 0 0; white-space: pre-wrap; word-break: break-all; max-height: 16em; overflow: auto; }
.kind { font-size: 0.75rem; color: var(--muted); text-transform: uppercase; letter-spacing: 0.03em; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 0.8rem; font-weight: 600;
  background: #e2e8f0; color: #1e293b; }
.badge-alive, .badge-Stable { background: #dcfce7; color: #14532d; }
.badge-dead, .badge-stopped { background: #fee2e2; color: #7f1d1d; }
.badge-Empty, .badge-Dead { background: #e2e8f0; color: #334155; }
.badge-stopping, .badge-starting, .badge-restarting, .badge-PreparingRebalance, .badge-CompletingRebalance { background: #fef3c7; color: #78350f; }
button { font: inherit; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 6px;
  padding: 7px 14px; cursor: pointer; min-height: 36px; }
button.small { padding: 3px 10px; min-height: 30px; font-size: 0.85rem; }
button.secondary { background: var(--card); color: var(--fg); border-color: var(--line); }
button.danger { background: var(--card); color: var(--danger); border-color: var(--danger); }
button:disabled { opacity: 0.45; cursor: not-allowed; }
.actions { display: flex; gap: 6px; flex-wrap: wrap; }
form.create-form, section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 4px 16px 16px; margin-bottom: 16px; }
.fields { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-end; }
label { display: flex; flex-direction: column; gap: 4px; font-size: 0.85rem; color: var(--muted); }
input, select { font: inherit; padding: 6px 8px; border: 1px solid #94a3b8; border-radius: 6px; background: #fff; color: var(--fg); min-height: 36px; }
input { width: 14em; }
input[type="number"] { width: 9em; }
dl.configs { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0 0 16px; }
dl.configs dt { color: var(--muted); }
dl.configs dd { margin: 0; }
ul.plain { list-style: none; margin: 0; padding: 0; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
.chart-box { background: var(--card); border: 1px solid var(--line); border-radius: 8px; margin: 0 0 16px; padding: 8px 12px; }
.chart-box figcaption { font-weight: 600; }
.chart-small { max-width: 720px; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart .grid { stroke: #e2e8f0; }
svg.chart .axis { stroke: #94a3b8; }
svg.chart .tick { font-size: 11px; fill: #475569; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; list-style: none; padding: 0; margin: 4px 0 0; font-size: 0.85rem; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.swatch-0 { background: #2563eb; } .swatch-1 { background: #d97706; } .swatch-2 { background: #059669; } .swatch-3 { background: #db2777; }
.swatch-4 { background: #7c3aed; } .swatch-5 { background: #0891b2; } .swatch-6 { background: #65a30d; } .swatch-7 { background: #dc2626; }
.toast { position: fixed; right: 16px; bottom: 16px; background: #0f172a; color: #fff; padding: 10px 16px; border-radius: 8px; max-width: 90vw; }
.toast-error { background: var(--danger); }
.auth { background: #fffbeb; border-bottom: 1px solid #fcd34d; padding: 12px 24px; }
.auth form { display: flex; flex-wrap: wrap; gap: 8px; align-items: flex-end; }
dialog.dialog { border: 1px solid var(--line); border-radius: 10px; padding: 8px 20px 16px; max-width: min(480px, 92vw); }
dialog::backdrop { background: rgba(15, 23, 42, 0.45); }
.dialog-buttons { display: flex; justify-content: flex-end; gap: 8px; }
[hidden] { display: none !important; }
@media (max-width: 640px) {
  :root { font-size: 14px; }
  header { padding: 8px 12px; }
  main { padding: 12px 12px 40px; }
  #live { margin-left: 0; }
  .charts { grid-template-columns: 1fr; }
  input, input[type="number"] { width: 100%; }
  .fields label { flex: 1 1 100%; }
  th, td { padding: 6px 8px; }
  /* Each row becomes a card of "column: value" lines (labels set by the script). */
  .table-wrap table thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  .table-wrap table tbody tr { display: block; border-top: 1px solid var(--line); padding: 6px 0; }
  .table-wrap table tbody th, .table-wrap table tbody td { display: flex; gap: 12px; border-top: none; padding: 3px 12px; }
  .table-wrap table tbody [data-label]::before { content: attr(data-label); flex: 0 0 9em; color: var(--muted); font-weight: 400; font-size: 0.85rem; }
  .table-wrap table tbody td > pre { flex: 1 1 auto; min-width: 0; }
}
`;
