/**
 * The web dashboard (`/ui` on the writer gateway) in a real browser against a
 * real 5-broker cluster: headless Chromium (`/usr/bin/chromium`) driven by
 * playwright-core.
 *
 * - the cluster page shows 5 brokers alive, also for a hash that is not
 *   valid percent-encoding (`#/topics/%E0`);
 * - a topic created from the page (keyboard only) is listed; another one is
 *   deleted through the confirmation dialog;
 * - messages produced through the writer gateway's API show up as the
 *   partition's end offset and in the message browser (JSON, Avro, text, hex);
 * - a consumer group's lag is shown, then drops to 0 once its consumer
 *   (a reader-gateway subscription) commits;
 * - the throughput page shows the topic's produce rate from the live stream;
 * - a broker stopped from the page is marked down and its partitions'
 *   leaders move to other brokers;
 * - at phone width nothing overflows the page sideways;
 * - a writer gateway with a token: the page asks for it (a wrong one is
 *   refused) and then shows the cluster;
 * - the browser logs no console error and no page error throughout.
 *
 * A screenshot of each page goes to `test/artifacts/ui/` (gitignored); with
 * `KA_UI_README_IMAGE=1` the cluster page also replaces the README's
 * `docs/images/dashboard.png` (a test run leaves tracked files alone).
 *
 * playwright-core reads `/proc/sys/fs/binfmt_misc/WSLInterop` when it loads,
 * which Deno 2.9 allows only with `--allow-all` (neither `--allow-read` nor
 * `--allow-sys` is enough). So under `deno task test`'s flags this file
 * re-runs itself in a child `deno test --allow-all` (the task's
 * `--allow-run` permits it) and passes or fails with it; run directly with
 * `--allow-all` (or with `KA_UI_BROWSER=1`) it runs the browser itself.
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ROOT, startCluster, type TestCluster, waitFor } from "../_cluster.ts";

/** The page's `document`, in the functions that run in the browser (waitForFunction, evaluate). */
// deno-lint-ignore no-explicit-any
declare const document: any;

const BASE_PORT = 22700;
const TOKEN = "dashboard-ui-token";
const CHILD_FLAG = "KA_UI_BROWSER";
const CHILD_TIMEOUT_MS = 150_000;
const WAIT_MS = 20_000;
const ARTIFACTS = `${ROOT}/test/artifacts/ui`;
const README_IMAGE = `${ROOT}/docs/images/dashboard.png`;
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
];

/** Whether playwright-core can load here: Deno grants it only with every permission. */
async function canLoadPlaywright(): Promise<boolean> {
  const all = await Promise.all(
    (["read", "write", "net", "env", "run", "sys", "ffi"] as const).map((name) =>
      Deno.permissions.query({ name })
    ),
  );
  return all.every((p) => p.state === "granted");
}

if (Deno.env.get(CHILD_FLAG) !== "1" && !(await canLoadPlaywright())) {
  Deno.test({
    name: "dashboard: browser test (re-run with --allow-all for playwright-core)",
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["test", "--allow-all", "--no-check", fileURLToPath(import.meta.url)],
        cwd: ROOT,
        env: { [CHILD_FLAG]: "1", NO_COLOR: "1", RUST_BACKTRACE: "0" },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const timer = setTimeout(() => child.kill("SIGKILL"), CHILD_TIMEOUT_MS);
      const { code, stdout, stderr } = await child.output();
      clearTimeout(timer);
      const out = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
      console.log(out.trim().split("\n").filter((l) => /\.\.\. |^ok|^FAILED/.test(l)).join("\n"));
      assert.equal(code, 0, `the browser test failed:\n${out}`);
    },
  });
} else {
  Deno.test({
    name: "dashboard: cluster, topics, messages, groups, throughput and a broker stop in Chromium",
    sanitizeOps: false,
    sanitizeResources: false,
    fn: browserTest,
  });
}

/** One HTTP exchange with a gateway; the body is always read. */
async function http(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> & { [k: string]: unknown } }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? {} : JSON.parse(text) };
}

interface PartitionJson {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

async function describe(cluster: TestCluster, topic: string): Promise<PartitionJson[]> {
  const answer = await cluster.console(`topic describe ${topic}`);
  assert.equal(answer.ok, true, answer.text);
  return (answer.json as { partitions: PartitionJson[] }).partitions;
}

async function browserTest(t: Deno.TestContext): Promise<void> {
  const { chromium } = await import("playwright-core");
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  await Deno.mkdir(`${ROOT}/docs/images`, { recursive: true });
  const cluster = await startCluster(BASE_PORT);
  const writer = `http://127.0.0.1:${cluster.ports.writer}`;
  const reader = `http://127.0.0.1:${cluster.ports.reader}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const problems: string[] = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console error: ${m.text()}`);
    });
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    page.setDefaultTimeout(WAIT_MS);
    const topic = "ui-orders";

    await t.step("the cluster page shows 5 brokers alive", async () => {
      await page.goto(`${writer}/ui`);
      await page.waitForFunction(() =>
        document.querySelector("#brokers-alive .card-value")?.textContent === "5 / 5"
      );
      const alive = await page.locator('tr[data-service^="broker-"][data-state="alive"]').count();
      assert.equal(alive, 5);
      for (const name of ["coordinator", "producer", "consumer"]) {
        assert.equal(
          await page.locator(`tr[data-service="${name}"][data-state="alive"]`).count(),
          1,
        );
      }
      // Keyboard: the first Tab reaches the skip link, which moves focus to the content.
      await page.keyboard.press("Tab");
      assert.equal(
        await page.evaluate(() => document.activeElement?.textContent),
        "Skip to content",
      );
    });

    await t.step("a hash that is not valid percent-encoding shows the cluster page", async () => {
      await page.goto(`${writer}/ui#/topics`);
      await page.waitForSelector("#topic-name");
      // decodeURIComponent("%E0") throws URIError: the page falls back instead of rendering nothing.
      await page.goto(`${writer}/ui#/topics/%E0`);
      await page.waitForFunction(() =>
        document.querySelector("#brokers-alive .card-value")?.textContent === "5 / 5"
      );
      assert.equal(
        await page.locator('nav a[aria-current="page"]').getAttribute("href"),
        "#/cluster",
      );
    });

    await t.step("a topic created from the page (keyboard only) is listed", async () => {
      await page.click('nav a[href="#/topics"]');
      await page.waitForSelector("#topic-name");
      await page.focus("#topic-name");
      await page.keyboard.type(topic);
      await page.keyboard.press("Tab");
      await page.keyboard.type("3");
      await page.keyboard.press("Tab");
      await page.keyboard.type("3");
      await page.keyboard.press("Tab");
      await page.keyboard.type("3600000");
      await page.keyboard.press("Enter");
      await page.waitForSelector(`tr[data-topic="${topic}"]`);
      const cells = await page.locator(`tr[data-topic="${topic}"] td.num`).allTextContents();
      assert.deepEqual(cells, ["3", "3"]);
      const partitions = await describe(cluster, topic);
      assert.equal(partitions.length, 3);
      assert.ok(partitions.every((p) => p.replicas.length === 3));

      // Delete another topic through the confirmation dialog.
      await page.fill("#topic-name", "ui-temp");
      await page.fill("#topic-partitions", "1");
      await page.fill("#topic-rf", "1");
      await page.click('form.create-form button[type="submit"]');
      await page.waitForSelector('tr[data-topic="ui-temp"]');
      await page.screenshot({ path: `${ARTIFACTS}/topics.png`, fullPage: true });
      await page.click('button[aria-label="Delete topic ui-temp"]');
      await page.waitForSelector("dialog[open]");
      await page.screenshot({ path: `${ARTIFACTS}/topics-delete-dialog.png` });
      await page.click("dialog[open] button[data-confirm]");
      await page.waitForSelector('tr[data-topic="ui-temp"]', { state: "detached" });
      const answer = await cluster.console("topic list");
      const names = (answer.json as { topics: { name: string }[] }).topics.map((x) => x.name);
      assert.deepEqual(names, [topic]);
    });

    await t.step("produced messages show as end offsets and in the message browser", async () => {
      const batch = await http(writer, "POST", "/api/v1/messages/batch", {
        topic,
        messages: [
          ...Array.from({ length: 5 }, (_, i) => ({ partition: 0, key: `k${i}`, value: { n: i } })),
          { partition: 0, value: "plain words" },
        ],
      });
      assert.equal(batch.status, 201, JSON.stringify(batch.body));
      const binary = await http(writer, "POST", "/api/v1/messages?format=binary", {
        topic,
        partition: 0,
        value: btoa(String.fromCharCode(0xde, 0xad, 0xbe, 0xef, 0x00, 0x01)),
      });
      assert.equal(binary.status, 201, JSON.stringify(binary.body));
      const avro = await http(writer, "POST", "/api/v1/messages", {
        topic,
        partition: 0,
        format: "avro",
        schema: {
          type: "record",
          name: "Order",
          fields: [{ name: "id", type: "long" }, { name: "item", type: "string" }],
        },
        value: { id: 7, item: "book" },
      });
      assert.equal(avro.status, 201, JSON.stringify(avro.body));
      await page.goto(`${writer}/ui#/topics/${topic}`);
      await page.waitForFunction(() =>
        document.querySelector('#partitions tr[data-partition="0"] td[data-col="end"]')
          ?.textContent === "8"
      );
      await page.waitForSelector('#messages tr[data-offset="7"]');
      assert.equal(await page.locator("#messages tbody tr").count(), 8);
      assert.equal(
        await page.locator('#messages tr[data-offset="7"] td[data-kind="avro"] pre').textContent(),
        '{\n  "id": 7,\n  "item": "book"\n}',
      );
      assert.equal(
        await page.locator('#messages tr[data-offset="6"] td[data-kind="binary"] pre')
          .textContent(),
        "00000000  de ad be ef 00 01" + " ".repeat(30) + "  |......|",
      );
      assert.equal(
        await page.locator('#messages tr[data-offset="5"] td[data-kind="text"] pre').textContent(),
        "plain words",
      );
      assert.equal(
        await page.locator('#messages tr[data-offset="4"] td[data-kind="json"] pre').textContent(),
        '{\n  "n": 4\n}',
      );
      // More messages: the page follows without a reload.
      const more = await http(writer, "POST", "/api/v1/messages/batch", {
        topic,
        messages: Array.from({ length: 3 }, (_, i) => ({ partition: 0, value: { more: i } })),
      });
      assert.equal(more.status, 201);
      await page.waitForFunction(() =>
        document.querySelector('#partitions tr[data-partition="0"] td[data-col="end"]')
          ?.textContent === "11"
      );
      await page.waitForSelector('#messages tr[data-offset="10"]');
      const start = await page.locator('#partitions tr[data-partition="0"] td[data-col="start"]')
        .textContent();
      assert.equal(start, "0");
      await page.screenshot({ path: `${ARTIFACTS}/topic.png`, fullPage: true });
    });

    await t.step("a group's lag drops to 0 after its consumer commits", async () => {
      // Spread some messages over every partition so the group has lag on each.
      const spread = await http(writer, "POST", "/api/v1/messages/batch", {
        topic,
        messages: Array.from({ length: 6 }, (_, i) => ({ partition: i % 3, value: { s: i } })),
      });
      assert.equal(spread.status, 201);
      const sub = await http(reader, "POST", "/api/v1/subscriptions", {
        group: "ui-group",
        topics: [topic],
        from: "earliest",
        autoCommit: false,
      });
      assert.equal(sub.status, 201, JSON.stringify(sub.body));
      const id = sub.body.id as string;
      let received = 0;
      const total = 17;
      assert.ok(
        await waitFor(async () => {
          const polled = await http(
            reader,
            "GET",
            `/api/v1/subscriptions/${id}/messages?max=1000&timeoutMs=500`,
          );
          assert.equal(polled.status, 200);
          received += (polled.body as unknown as unknown[]).length;
          return received >= total;
        }, WAIT_MS),
        `received ${received} of ${total}`,
      );
      // Commit partition 0 only, up to offset 3 of its 13: lag remains.
      const partial = await http(reader, "POST", `/api/v1/subscriptions/${id}/commit`, {
        offsets: [{ topic, partition: 0, offset: 3 }],
      });
      assert.equal(partial.status, 200, JSON.stringify(partial.body));
      await page.goto(`${writer}/ui#/groups`);
      await page.click('tr[data-group="ui-group"] a');
      await page.waitForFunction(() =>
        Number(document.querySelector("#total-lag")?.textContent ?? "0") > 0
      );
      assert.equal(
        await page.locator(`#offsets tr[data-partition="0"] td[data-col="lag"]`).textContent(),
        "10",
      );
      // Let the live stream draw a few lag points before the commit.
      await page.waitForFunction(() =>
        (document.querySelector("#lag-chart polyline")?.getAttribute("points") ?? "")
          .split(" ").length >= 2
      );
      const commit = await http(reader, "POST", `/api/v1/subscriptions/${id}/commit`);
      assert.equal(commit.status, 200, JSON.stringify(commit.body));
      await page.waitForFunction(() => document.querySelector("#total-lag")?.textContent === "0");
      const lags = await page.locator('#offsets td[data-col="lag"]').allTextContents();
      assert.deepEqual(lags, ["0", "0", "0"]);
      const members = await page.locator("#members tbody tr").count();
      assert.equal(members, 1);
      await page.screenshot({ path: `${ARTIFACTS}/group.png`, fullPage: true });
      await page.goto(`${writer}/ui#/groups`);
      await page.waitForSelector('tr[data-group="ui-group"]');
      await page.screenshot({ path: `${ARTIFACTS}/groups.png`, fullPage: true });
      const left = await http(reader, "DELETE", `/api/v1/subscriptions/${id}`);
      assert.equal(left.status, 204);
    });

    await t.step("the throughput page shows the topic's produce rate live", async () => {
      // A second topic with the cluster's defaults (10 partitions, replication factor 2).
      const created = await cluster.console("topic create ui-events");
      assert.equal(created.ok, true, created.text);
      await page.goto(`${writer}/ui#/throughput`);
      await page.waitForFunction(() =>
        document.getElementById("stream-state")?.textContent === "Live"
      );
      // Produce for a few sampling intervals so at least one sample sees the growth.
      const deadline = Date.now() + WAIT_MS;
      let rate = 0;
      while (Date.now() < deadline && rate <= 0) {
        for (const [name, count] of [[topic, 50], ["ui-events", 20]] as const) {
          const sent = await http(writer, "POST", "/api/v1/messages/batch", {
            topic: name,
            messages: Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: { t: i } })),
          });
          assert.equal(sent.status, 201, JSON.stringify(sent.body));
        }
        await new Promise((r) => setTimeout(r, 500));
        rate = await page.evaluate((name) =>
          Number(
            document.querySelector(`#rates tr[data-topic="${name}"] td[data-col="produced"]`)
              ?.textContent ?? "0",
          ), topic);
      }
      assert.ok(rate > 0, "no produce rate shown");
      assert.ok(await page.locator("#throughput-charts svg.chart").count() === 2);
      await page.waitForSelector("#throughput-charts polyline");
      await page.screenshot({ path: `${ARTIFACTS}/throughput.png`, fullPage: true });
    });

    await t.step(
      "a broker stopped from the page is marked down and loses its leaderships",
      async () => {
        const before = await describe(cluster, topic);
        // A broker leading some partition other than 0 (the one the topic page browses), else any leader.
        const victim = before.find((p) => p.partition !== 0 && p.leader !== before[0].leader)
          ?.leader ?? before[0].leader;
        const led = before.filter((p) => p.leader === victim).map((p) => p.partition);
        assert.ok(led.length > 0);
        await page.goto(`${writer}/ui#/cluster`);
        await page.waitForSelector(`tr[data-service="broker-${victim}"][data-state="alive"]`);
        await page.screenshot({ path: `${ARTIFACTS}/cluster.png`, fullPage: true });
        if (Deno.env.get("KA_UI_README_IMAGE") === "1") {
          await page.screenshot({ path: README_IMAGE });
        }
        await page.click(`button[aria-label="stop Broker ${victim}"]`);
        await page.waitForSelector(`tr[data-service="broker-${victim}"]:not([data-state="alive"])`);
        const state = await page.locator(`tr[data-service="broker-${victim}"]`).getAttribute(
          "data-state",
        );
        assert.ok(state === "stopped" || state === "dead", `state ${state}`);
        await page.waitForFunction(() =>
          document.querySelector("#brokers-alive .card-value")?.textContent === "4 / 5"
        );
        await page.screenshot({ path: `${ARTIFACTS}/cluster-broker-stopped.png`, fullPage: true });
        // The coordinator moves the leaderships (its session timeout), and the topic page shows it.
        await page.goto(`${writer}/ui#/topics/${topic}`);
        await page.waitForFunction(
          ({ partitions, down }) =>
            partitions.every((p) => {
              const text = document.querySelector(
                `#partitions tr[data-partition="${p}"] td[data-col="leader"]`,
              )?.textContent;
              return text !== undefined && text !== "none" && text !== String(down);
            }),
          { partitions: led, down: victim },
          { timeout: WAIT_MS },
        );
        const after = await describe(cluster, topic);
        for (const p of led) {
          assert.notEqual(after[p].leader, victim);
          assert.ok(after[p].leader >= 0);
          const shown = await page.locator(
            `#partitions tr[data-partition="${p}"] td[data-col="leader"]`,
          ).textContent();
          assert.ok(after[p].replicas.includes(Number(shown)), `leader ${shown} of ${p}`);
        }
        await page.screenshot({ path: `${ARTIFACTS}/topic-after-stop.png`, fullPage: true });
      },
    );

    await t.step("at phone width nothing overflows sideways", async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      for (const hash of ["#/cluster", "#/topics", `#/topics/${topic}`, "#/groups/ui-group"]) {
        await page.goto(`${writer}/ui${hash}`);
        await page.waitForSelector("main table tbody tr");
        const overflow = await page.evaluate(() =>
          document.documentElement.scrollWidth - document.documentElement.clientWidth
        );
        assert.ok(overflow <= 1, `${hash} overflows by ${overflow} px`);
      }
      await page.goto(`${writer}/ui#/cluster`);
      await page.waitForSelector('tr[data-service="broker-0"]');
      await page.screenshot({ path: `${ARTIFACTS}/cluster-phone.png`, fullPage: true });
    });

    await page.close();
    assert.deepEqual(problems, []);

    await t.step("with auth on, the page asks for the token and the data needs it", async () => {
      const port = BASE_PORT + 30;
      const gateway = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--quiet",
          "--no-prompt",
          `--allow-net=127.0.0.1`,
          `${ROOT}/gateway/main_writer.ts`,
          "--port",
          String(port),
          "--bootstrap",
          cluster.brokerAddresses.join(","),
          "--auth-token",
          TOKEN,
          "--console",
          `127.0.0.1:${cluster.ports.console}`,
          "--ignore-stdin",
        ],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      const secured = `http://127.0.0.1:${port}`;
      const authPage = await (await browser.newContext({ viewport: { width: 1280, height: 800 } }))
        .newPage();
      const seen: string[] = [];
      authPage.on("console", (m) => {
        if (m.type() === "error") seen.push(m.text());
      });
      const pageErrors: string[] = [];
      authPage.on("pageerror", (err) => pageErrors.push(err.message));
      authPage.setDefaultTimeout(WAIT_MS);
      try {
        assert.ok(
          await waitFor(async () => {
            try {
              const res = await fetch(`${secured}/health`);
              await res.body?.cancel();
              return res.status === 200;
            } catch {
              return false;
            }
          }, WAIT_MS),
          "the secured writer gateway did not come up",
        );
        const denied = await http(secured, "GET", "/api/v1/dashboard/cluster");
        assert.equal(denied.status, 401);
        await authPage.goto(`${secured}/ui`);
        await authPage.waitForSelector("#auth:not([hidden])");
        await authPage.fill("#auth-token", "not-the-token");
        await authPage.press("#auth-token", "Enter");
        await authPage.waitForFunction(() =>
          document.getElementById("auth-message")?.textContent.includes("did not accept")
        );
        await authPage.fill("#auth-token", TOKEN);
        await authPage.press("#auth-token", "Enter");
        await authPage.waitForFunction(() =>
          document.querySelector("#brokers-alive .card-value")?.textContent === "4 / 5"
        );
        assert.equal(await authPage.locator("#auth").isHidden(), true);
        await authPage.screenshot({ path: `${ARTIFACTS}/cluster-auth.png` });
        // The only errors the browser logged are the two refused requests.
        assert.ok(seen.length >= 2, JSON.stringify(seen));
        for (const text of seen) assert.match(text, /status of 40[13]/);
      } finally {
        await authPage.close();
        gateway.kill("SIGTERM");
        await gateway.status;
      }
      assert.deepEqual(pageErrors, []);
    });
  } finally {
    await browser.close();
    await cluster.stop();
  }
}
