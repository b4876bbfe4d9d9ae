// End-to-end specs of the real desktop app, in order, against one app session:
// a fresh profile opens the demo, shows its payments, refunds one through the outbox, makes and
// verifies a backup, and takes a second Stripe connection.
// Run with tests/e2e/run.sh (it sets up Xvfb, the keyring, temp XDG dirs and tauri-driver).
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import {
  APP_BIN,
  CLI_BIN,
  OUTPUT_DIR,
  launchApp,
  pidsOf,
  startSandbox,
  tid,
  treePss,
} from "./support.mjs";

const DEMO_TIMEOUT = 120_000; // First launch: start the sandbox, sync a few thousand payments.
const UI_TIMEOUT = 20_000;
const SECOND = { name: "E2E Stripe", charges: 50 };

/** Prints a measurement where both people and scripts find it. */
function metric(name, value) {
  const line = `E2E ${name}=${value}`;
  console.log(line);
  appendFileSync(path.join(OUTPUT_DIR, "metrics.txt"), `${line}\n`);
}

describe("Switchboard desktop app", { concurrency: false }, () => {
  let browser;
  let launchedAt;
  let sandbox;
  let oauthSandbox;

  /** Runs a step; on failure saves `failure-<name>.png` before rethrowing. */
  const step = (name, fn) =>
    test(name, async () => {
      assert.ok(browser, "no app session");
      try {
        await fn();
      } catch (error) {
        const file = `failure-${name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}.png`;
        await browser.saveScreenshot(path.join(OUTPUT_DIR, file)).catch(() => {});
        throw error;
      }
    });

  /** Rows of the Payments table currently in the DOM (it is virtualised). */
  const visibleRows = () =>
    browser.execute(() =>
      Array.from(document.querySelectorAll('[data-testid="payment-row"]')).map((row) => ({
        externalId: row.getAttribute("data-external-id"),
        text: row.textContent ?? "",
        amount: row.querySelector('[data-testid="amount"]')?.textContent?.trim() ?? null,
      })),
    );

  before(async () => {
    launchedAt = performance.now();
    browser = await launchApp();
  });

  after(async () => {
    await browser?.deleteSession().catch(() => {});
    await sandbox?.stop();
    await oauthSandbox?.stop();
  });

  step("the window opens, titled Switchboard", async () => {
    assert.equal(await browser.getTitle(), "Switchboard");
    // The native window too (what the window manager and the task bar show).
    const windows = execFileSync("xdotool", ["search", "--name", "^Switchboard$"], {
      encoding: "utf8",
    })
      .trim()
      .split("\n")
      .filter(Boolean);
    assert.ok(windows.length >= 1, "no X window titled Switchboard");
    const { width, height } = await browser.getWindowSize();
    assert.ok(width >= 900 && height >= 560, `window too small: ${width}x${height}`);
  });

  step("the demo opens and the Payments table shows its payments", async () => {
    await browser.$(tid("demo-banner")).waitForDisplayed({ timeout: DEMO_TIMEOUT });
    await browser.$(tid("nav-payments")).click();
    await browser.$(tid("payments-table")).waitForDisplayed({ timeout: UI_TIMEOUT });
    await browser.$(tid("payment-row")).waitForDisplayed({ timeout: DEMO_TIMEOUT });
    metric("launch_to_payments_ms", Math.round(performance.now() - launchedAt));

    const rows = await visibleRows();
    assert.ok(rows.length >= 10, `only ${rows.length} payment rows rendered`);
    assert.ok(rows.length <= 300, `${rows.length} rows in the DOM: the table is not virtualised`);
    const total = Number(await browser.$(tid("payments-table")).getAttribute("data-total"));
    assert.ok(total >= 1000, `the demo has only ${total} payments`);
  });

  step("memory of the whole app process tree after the demo loads", async () => {
    const pids = pidsOf(APP_BIN);
    assert.equal(pids.length, 1, `expected one app process, found ${pids.join(", ")}`);
    const { total, parts } = treePss(pids[0]);
    for (const part of parts) console.log(`# pss ${part.name} (${part.pid}): ${part.kib} KiB`);
    assert.ok(
      parts.some((part) => part.name.startsWith("WebKitWebProces")),
      "the WebKit web process is not a descendant of the app",
    );
    metric("pss_kib", total);
  });

  step("the webview is locked down: CSP, frozen prototypes, only allowed commands", async () => {
    const result = await browser.execute(async () => {
      const out = {};
      // connect-src allows only IPC: a request to a live local server (tauri-driver itself)
      // is refused before it leaves, and reported as a CSP violation.
      const violations = [];
      const record = (event) => violations.push(event.effectiveDirective);
      document.addEventListener("securitypolicyviolation", record);
      try {
        await fetch("http://127.0.0.1:4444/status", { mode: "no-cors", cache: "no-store" });
        out.fetch = "allowed";
      } catch {
        out.fetch = "blocked";
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      document.removeEventListener("securitypolicyviolation", record);
      out.violations = violations;
      out.frozen = Object.isFrozen(Object.prototype);
      // style-src keeps 'unsafe-inline' working (no nonce added): style attributes apply.
      const probe = document.createElement("div");
      probe.setAttribute("style", "position:absolute;width:123px;height:1px");
      document.body.append(probe);
      out.inlineStyleWidth = probe.offsetWidth;
      probe.remove();
      // A core command outside core:default is refused by the ACL.
      try {
        await window.__TAURI_INTERNALS__.invoke("plugin:window|set_title", {
          label: "main",
          value: "Hijacked",
        });
        out.foreignCommand = "allowed";
      } catch (error) {
        out.foreignCommand = String(error);
      }
      return out;
    });
    assert.equal(result.fetch, "blocked", "the CSP let a fetch to 127.0.0.1 through");
    assert.ok(result.violations.includes("connect-src"), `no CSP report: ${JSON.stringify(result)}`);
    assert.equal(result.frozen, true, `freezePrototype is off: ${JSON.stringify(result)}`);
    assert.equal(result.inlineStyleWidth, 123, "inline style attributes are blocked by the CSP");
    assert.match(result.foreignCommand, /not allowed/i, "window.set_title was not refused");
  });

  step("two known demo payments render in their currencies", async () => {
    const expected = [
      { description: "Demo: Tokyo workshop deposit", amount: "¥1,234" },
      { description: "Demo: Berlin coffee beans", amount: "€12.34" },
    ];
    // The two are the newest payments of the demo, so at the top of the table.
    let rows = [];
    await browser.waitUntil(
      async () => {
        rows = await visibleRows();
        return expected.every((e) => rows.some((row) => row.text.includes(e.description)));
      },
      { timeout: UI_TIMEOUT, timeoutMsg: "the two known demo payments are not in the table" },
    );
    for (const { description, amount } of expected) {
      const row = rows.find((r) => r.text.includes(description));
      assert.match(row.externalId ?? "", /^ch_/, `${description}: data-external-id`);
      assert.equal(row.amount, amount, `${description}: amount cell`);
    }
    await browser.saveScreenshot(path.join(OUTPUT_DIR, "payments.png"));

    // The demo's sync went over real HTTP to the sandbox: Sync activity → Requests logs it.
    await browser.$(tid("nav-sync")).click();
    await browser.$(tid("requests-tab")).click();
    let paths = [];
    await browser.waitUntil(
      async () => {
        paths = await browser.execute(() =>
          Array.from(document.querySelectorAll('[data-testid="request-row"]')).map(
            (row) => row.querySelector('[data-testid="request-path"]')?.textContent?.trim() ?? "",
          ),
        );
        return paths.includes("/v1/charges");
      },
      {
        timeout: UI_TIMEOUT,
        timeoutMsg: "no /v1/charges row in Sync activity → Requests",
      },
    );
    assert.ok(
      paths.every((p) => p.startsWith("/v1/") && !p.includes("?")),
      `unexpected request paths: ${paths.slice(0, 5).join(", ")}`,
    );
    await browser.saveScreenshot(path.join(OUTPUT_DIR, "requests.png"));
  });

  step("filtering finds a payment; a partial refund from its drawer settles through the outbox", async () => {
    await browser.$(tid("nav-payments")).click();
    const table = browser.$(tid("payments-table"));
    await table.waitForDisplayed({ timeout: UI_TIMEOUT });
    const everything = Number(await table.getAttribute("data-total"));
    // Full-text search (FTS5 in Rust) narrows the table to the demo's Berlin payment.
    await browser.$(tid("payments-search")).setValue("berlin coff");
    await browser.waitUntil(
      async () => {
        const total = Number(await table.getAttribute("data-total"));
        const rows = await visibleRows();
        return total >= 1 && total < everything && rows.every((r) => r.text.includes("Berlin"));
      },
      { timeout: UI_TIMEOUT, timeoutMsg: "the search did not narrow the table to the Berlin payment" },
    );
    assert.match(await browser.$(tid("payments-count")).getText(), /\b1 payment\b|\d+ payments/);
    // The table is virtualised (rows are re-rendered while it settles): find the row's id
    // from the page, then click the row by that id.
    let externalId = "";
    await browser.waitUntil(
      async () => {
        const rows = await visibleRows();
        externalId = rows.find((r) => r.text.includes("Demo: Berlin coffee beans"))?.externalId ?? "";
        return externalId !== "";
      },
      { timeout: UI_TIMEOUT, timeoutMsg: "the Berlin demo payment is not in the table" },
    );
    await browser.$(tid("payment-row", `[data-external-id="${externalId}"]`)).click();
    await browser.$(tid("payment-drawer")).waitForDisplayed({ timeout: UI_TIMEOUT });
    await browser.$(tid("payment-timeline")).waitForDisplayed({ timeout: UI_TIMEOUT });
    await browser.$(tid("refund-button")).click();
    const amount = browser.$(tid("refund-amount"));
    await amount.waitForDisplayed({ timeout: UI_TIMEOUT });
    await amount.setValue("1.00");
    await browser.$(tid("refund-confirm")).click();
    const outcome = browser.$(tid("refund-outcome"));
    await browser.waitUntil(async () => (await outcome.getAttribute("data-status")) === "succeeded", {
      timeout: UI_TIMEOUT,
      timeoutMsg: "the refund did not reach `succeeded`",
    });
    assert.match(await outcome.getText(), /Refunded €1\.00\..*re_/s);
    await browser.saveScreenshot(path.join(OUTPUT_DIR, "refund.png"));
    await browser.$(tid("refund-close")).click();
    // The drawer reloads the payment: its timeline now shows the refund.
    await browser.waitUntil(
      async () => {
        const kinds = await browser.execute(() =>
          Array.from(document.querySelectorAll('[data-testid="timeline-entry"]')).map((e) => e.dataset.kind),
        );
        return kinds.includes("refunded");
      },
      { timeout: UI_TIMEOUT, timeoutMsg: "the timeline does not show the refund" },
    );
    await browser.keys("Escape");
    await browser.$(tid("payments-filter-clear")).click();

    // Sync activity → Outbox lists it, sent once and done.
    await browser.$(tid("nav-sync")).click();
    await browser.$(tid("outbox-tab")).click();
    const outboxRow = browser.$(tid("outbox-row"));
    await outboxRow.waitForDisplayed({ timeout: UI_TIMEOUT });
    // Sent on the first attempt, with the provider's refund id.
    assert.match(await outboxRow.getText(), /Refund 1\.00 EUR of ch_.*re_\w+.*Sent.*1\/5/s);
  });

  step("the dashboard sums the demo's money; a payout adds up; a subscription is cancelled; a payment link is made", async () => {
    // Dashboard: the demo's payments are dated by the sandbox's seeded generator, so show every
    // day up to today (custom days are set like a user's typing: value, then an input event).
    await browser.$(tid("nav-dashboard")).click();
    await browser.$(tid("dashboard-view")).waitForDisplayed({ timeout: UI_TIMEOUT });
    await browser.$(tid("dashboard-period")).selectByAttribute("value", "custom");
    await browser.$(tid("dashboard-from")).waitForDisplayed({ timeout: UI_TIMEOUT });
    await browser.execute(
      (from, to) => {
        for (const [id, value] of [
          ["dashboard-from", from],
          ["dashboard-to", to],
        ]) {
          const input = document.querySelector(`[data-testid="${id}"]`);
          input.value = value;
          input.dispatchEvent(new Event("input", { bubbles: true }));
        }
      },
      "2000-01-01",
      new Date().toISOString().slice(0, 10),
    );
    await browser.$(tid("dashboard-apply")).click();
    let cards = [];
    await browser.waitUntil(
      async () => {
        cards = await browser.execute(() =>
          Array.from(document.querySelectorAll('[data-testid="dashboard-currency-card"]')).map((c) => ({
            currency: (c.dataset.currency ?? "").toUpperCase(),
            gross: c.querySelector('[data-testid="dashboard-gross"]')?.textContent?.trim() ?? "",
          })),
        );
        return ["EUR", "JPY"].every((cur) => cards.some((c) => c.currency === cur && /[1-9]/.test(c.gross)));
      },
      { timeout: UI_TIMEOUT, timeoutMsg: "the dashboard has no EUR and JPY takings for the demo" },
    );
    // One card per currency, never summed across currencies.
    assert.equal(new Set(cards.map((c) => c.currency)).size, cards.length, JSON.stringify(cards));
    await browser.$(tid("dashboard-chart")).waitForDisplayed({ timeout: UI_TIMEOUT });
    await browser.saveScreenshot(path.join(OUTPUT_DIR, "dashboard.png"));

    // Payouts: the newest one opens with its contents, which add up to it to the cent.
    await browser.$(tid("nav-payouts")).click();
    const openPayout = browser.$(`${tid("payout-row")} button.link`);
    await openPayout.waitForDisplayed({ timeout: UI_TIMEOUT });
    await openPayout.click();
    await browser.$(tid("payout-detail")).waitForDisplayed({ timeout: UI_TIMEOUT });
    await browser.$(tid("payout-entry")).waitForDisplayed({ timeout: UI_TIMEOUT });
    const check = browser.$(`${tid("payout-detail")} ${tid("payout-difference")}`);
    await check.waitForDisplayed({ timeout: UI_TIMEOUT });
    assert.equal(await check.getAttribute("data-state"), "ok", await check.getText());
    await browser.saveScreenshot(path.join(OUTPUT_DIR, "payout.png"));
    await browser.keys("Escape");

    // Subscriptions: one is cancelled at period end, after a confirmation, through the outbox.
    await browser.$(tid("nav-subscriptions")).click();
    await browser.$(tid("subscription-row")).waitForDisplayed({ timeout: UI_TIMEOUT });
    const cancel = browser.$(`${tid("subscription-row")} ${tid("subscription-cancel")}:not([disabled])`);
    await cancel.waitForDisplayed({ timeout: UI_TIMEOUT });
    await cancel.click();
    await browser.$(tid("subscription-cancel-summary")).waitForDisplayed({ timeout: UI_TIMEOUT });
    await browser.$(tid("subscription-cancel-confirm")).click();
    const subscriptionNotice = browser.$(tid("subscriptions-notice"));
    await browser.waitUntil(
      async () =>
        (await subscriptionNotice.isDisplayed()) &&
        /cancelled at the end of the period/.test(await subscriptionNotice.getText()),
      { timeout: UI_TIMEOUT, timeoutMsg: "the subscription was not cancelled at period end" },
    );

    // Request a payment: a Stripe payment link for 25.00 EUR comes back from the outbox.
    await browser.$(tid("nav-dashboard")).click();
    await browser.$(tid("request-payment")).click();
    const requestAmount = browser.$(tid("request-amount"));
    await requestAmount.waitForDisplayed({ timeout: UI_TIMEOUT });
    await requestAmount.setValue("25.00");
    await browser.$(tid("request-currency")).selectByAttribute("value", "EUR");
    await browser.$(tid("request-description")).setValue("Deposit for the spring workshop");
    await browser.$(tid("request-submit")).click();
    const requestOutcome = browser.$(tid("request-outcome"));
    await browser.waitUntil(async () => (await requestOutcome.getAttribute("data-status")) === "created", {
      timeout: UI_TIMEOUT,
      timeoutMsg: "no payment link came back",
    });
    assert.match(await browser.$(tid("request-link")).getText(), /^https?:\/\/\S+/);
    await browser.saveScreenshot(path.join(OUTPUT_DIR, "payment-request.png"));
    await browser.keys("Escape");
  });

  step("Settings → Backups makes a backup and verifies it", async () => {
    await browser.$(tid("nav-settings")).click();
    await browser.$(tid("backup-now")).click();
    const notice = browser.$(tid("backup-notice"));
    await browser.waitUntil(async () => (await notice.isDisplayed()) && /verified/.test(await notice.getText()), {
      timeout: UI_TIMEOUT,
      timeoutMsg: "no “Backup made and verified.” notice",
    });
    await browser.$(tid("backup-row")).waitForDisplayed({ timeout: UI_TIMEOUT });
    await browser.$(tid("verify-backup")).click();
    await browser.waitUntil(async () => /is intact/.test(await notice.getText()), {
      timeout: UI_TIMEOUT,
      timeoutMsg: "verifying the backup did not report it intact",
    });
    await browser.saveScreenshot(path.join(OUTPUT_DIR, "backups.png"));
  });

  step("a second Stripe connection is added through the dialog and its payments appear", async () => {
    sandbox = await startSandbox(["--seed", "7", "--stripe-charges", String(SECOND.charges)]);
    const { api_base: apiBase, api_key: apiKey } = sandbox.providers.stripe;
    assert.match(apiBase, /^http:\/\/127\.0\.0\.1:\d+$/);

    await browser.$(tid("nav-connections")).click();
    await browser.$(tid("add-connection")).click();
    await browser.$(tid("provider-stripe")).click();
    await browser.$(tid("stripe-name")).setValue(SECOND.name);
    await browser.$(tid("stripe-key")).setValue(apiKey);
    await browser.$(tid("advanced-toggle")).click();
    await browser.$(tid("stripe-api-base")).setValue(apiBase);
    await browser.$(tid("stripe-submit")).click();

    const card = browser.$(tid("connection-card", `[data-connection-name="${SECOND.name}"]`));
    await card.waitForDisplayed({ timeout: UI_TIMEOUT });
    // Its first sync starts by itself; wait until the card counts every payment.
    let count = "";
    await browser
      .waitUntil(
        async () => {
          count = await browser.execute(
            (name) =>
              document
                .querySelector(
                  `[data-testid="connection-card"][data-connection-name="${name}"] [data-testid="payment-count"]`,
                )
                ?.textContent?.trim() ?? "",
            SECOND.name,
          );
          return count.replace(/\D/g, "") === String(SECOND.charges);
        },
        { timeout: 60_000 },
      )
      .catch(() => {
        throw new Error(`the new connection shows "${count}" payments, not ${SECOND.charges}`);
      });

    // The dialog never echoes the key: it is nowhere in the page once the connection exists.
    const keyInPage = await browser.execute(
      (key) =>
        document.documentElement.outerHTML.includes(key) ||
        Array.from(document.querySelectorAll("input, textarea")).some((i) => i.value.includes(key)),
      apiKey,
    );
    assert.equal(keyInPage, false, "the API key is still in the page");
    await browser.saveScreenshot(path.join(OUTPUT_DIR, "connections.png"));

    await browser.$(tid("nav-payments")).click();
    await browser.$(tid("connection-filter")).selectByVisibleText(SECOND.name);
    const table = browser.$(tid("payments-table"));
    await browser.waitUntil(
      async () => {
        if ((await table.getAttribute("data-total")) !== String(SECOND.charges)) return false;
        const rows = await visibleRows();
        return rows.length > 0 && rows.every((row) => row.text.includes(SECOND.name));
      },
      {
        timeout: UI_TIMEOUT,
        timeoutMsg: `the Payments table does not show the ${SECOND.charges} payments of ${SECOND.name}`,
      },
    );
    await browser.saveScreenshot(path.join(OUTPUT_DIR, "payments-second-connection.png"));
  });

  step("leaving the demo opens the real, empty workspace", async () => {
    await browser.$(tid("demo-banner")).$("button=Start with my own accounts").click();
    await browser.$(tid("demo-banner")).waitForDisplayed({ timeout: UI_TIMEOUT, reverse: true });
    await browser.$(tid("nav-connections")).click();
    await browser.$(tid("connections-empty")).waitForDisplayed({ timeout: UI_TIMEOUT });
    await browser.saveScreenshot(path.join(OUTPUT_DIR, "real-workspace.png"));
  });
  step("a Xero sign-in that died is reconnected with one click, on the same connection", async () => {
    // The fake Xero's refresh tokens lapse after 3 s, so the sign-in can be made to die.
    oauthSandbox = await startSandbox(["--seed", "11", "--stripe-charges", "1", "--oauth-refresh-token-lifetime", "3"]);
    const xero = oauthSandbox.providers.xero;
    const tenant = "Demo Company (NZ)";

    // Connect through the dialog: "the system browser" is tests/e2e/fake-browser.sh ($BROWSER).
    await browser.$(tid("nav-connections")).click();
    await browser.$(tid("add-connection")).click();
    await browser.$(tid("provider-search")).setValue("xero");
    await browser.$(tid("provider-xero")).click();
    await browser.$(tid("oauth-name")).setValue("Books");
    await browser.$(tid("oauth-client-id")).setValue(xero.client_id);
    await browser.$(tid("oauth-advanced-toggle")).click();
    await browser.$(tid("oauth-api-base")).setValue(xero.api_base);
    await browser.$(tid("oauth-authorize-url")).setValue(xero.authorize_url);
    await browser.$(tid("oauth-token-url")).setValue(xero.token_url);
    await browser.$(tid("oauth-revoke-url")).setValue(xero.revoke_url);
    await browser.$(tid("oauth-submit")).click();
    // The fake allows two organisations: the dialog asks which, then signs in again.
    const account = browser.$(tid("oauth-account"));
    await account.waitForDisplayed({ timeout: UI_TIMEOUT });
    await account.setValue(tenant);
    await browser.$(tid("oauth-submit")).click();
    const card = browser.$(tid("connection-card", '[data-connection-name="Books"]'));
    await card.waitForDisplayed({ timeout: UI_TIMEOUT });
    await browser.waitUntil(async () => (await card.$(tid("connection-account")).getText()).includes(tenant), {
      timeout: UI_TIMEOUT,
      timeoutMsg: "the Xero card does not name the organisation",
    });
    const cli = (...args) => spawnSync(CLI_BIN, args, { encoding: "utf8", timeout: 60_000 });
    const show = () => JSON.parse(cli("--json", "connections", "show", "Books").stdout.trim());
    const before = show();
    assert.equal(before.connection.status, "connected");

    // The refresh token lapses; the next refresh (here the CLI's, sharing the data folder)
    // is refused and the connection asks for a reconnect.
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    const refused = cli("auth", "refresh", "Books");
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /Reconnect/);
    await browser.refresh();
    await browser.$(tid("nav-connections")).click();
    const banner = browser.$(tid("attention-banner"));
    await banner.waitForDisplayed({ timeout: UI_TIMEOUT });
    assert.match(await banner.getText(), /Books/);
    await browser.saveScreenshot(path.join(OUTPUT_DIR, "needs-reconnect.png"));

    // One click: the browser opens, the fake approves, and the same connection is back.
    await browser.$(tid(`reconnect-${before.connection.id}`)).click();
    await browser.$(tid(`reconnect-done-${before.connection.id}`)).waitForDisplayed({ timeout: UI_TIMEOUT });
    await banner.waitForDisplayed({ timeout: UI_TIMEOUT, reverse: true });
    const after = show();
    assert.equal(after.connection.id, before.connection.id);
    assert.equal(after.connection.status, "connected");
    assert.equal(after.connection.account_id, before.connection.account_id);
    assert.match(readFileSync(path.join(OUTPUT_DIR, "fake-browser.log"), "utf8"), /HTTP 200/);
    await browser.saveScreenshot(path.join(OUTPUT_DIR, "reconnected.png"));
  });
});
