// Helpers of the end-to-end specs: the WebDriver session, the sandbox CLI, process memory.
// Run through tests/e2e/run.sh, which provides the environment these read.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, realpathSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { remote } from "webdriverio";

const ROOT = path.resolve(import.meta.dirname, "../..");

export const APP_BIN = path.resolve(
  process.env.SWITCHBOARD_APP_BIN ?? path.join(ROOT, "target/release/switchboard-desktop"),
);
export const CLI_BIN = path.resolve(
  process.env.SWITCHBOARD_CLI_BIN ?? path.join(ROOT, "target/release/switchboard"),
);
export const OUTPUT_DIR = process.env.E2E_OUTPUT_DIR ?? path.join(ROOT, "test-output/e2e");
mkdirSync(OUTPUT_DIR, { recursive: true });

/** Starts the app through tauri-driver (listening on 4444) and returns the session. */
export async function launchApp(args = []) {
  return remote({
    hostname: "127.0.0.1",
    port: 4444,
    logLevel: "warn",
    connectionRetryTimeout: 120_000,
    connectionRetryCount: 0,
    capabilities: {
      "tauri:options": { application: APP_BIN, args },
      "wdio:enforceWebDriverClassic": true,
    },
  });
}

/** `[data-testid="…"]`, with optional extra attribute selectors. */
export const tid = (id, extra = "") => `[data-testid="${id}"]${extra}`;

/**
 * Runs `switchboard sandbox serve …` and resolves with its announcement once it prints the
 * one ready line: `{ providers: { stripe: { api_base, api_key } }, stop() }`.
 */
export function startSandbox(args) {
  const child = spawn(CLI_BIN, ["sandbox", "serve", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, RUST_LOG: "warn" },
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`sandbox did not announce itself within 30 s; stderr:\n${stderr}`));
    }, 30_000);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`sandbox exited early (${code ?? signal}); stderr:\n${stderr}`));
    });
    createInterface({ input: child.stdout }).once("line", (line) => {
      clearTimeout(timer);
      child.removeAllListeners("exit");
      try {
        resolve({ ...JSON.parse(line), pid: child.pid, stop });
      } catch (error) {
        void stop();
        reject(new Error(`sandbox printed something other than JSON: ${error.message}`));
      }
    });
  });
}

/** PIDs of running processes whose executable is `bin`. */
export function pidsOf(bin) {
  const target = realpathSync(bin);
  const pids = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (realpathSync(`/proc/${entry}/exe`) === target) pids.push(Number(entry));
    } catch {
      // Gone, or not ours to look at.
    }
  }
  return pids;
}

/** `pid` and all its descendants (WebKitWebProcess, WebKitNetworkProcess, …). */
export function processTree(pid) {
  const children = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Field 4 (ppid) follows the parenthesised command name, which may hold spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  const tree = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift();
    tree.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return tree;
}

/** Sum of `Pss` (KiB) over the tree, and each process's share. */
export function treePss(pid) {
  const parts = [];
  for (const p of processTree(pid)) {
    try {
      const rollup = readFileSync(`/proc/${p}/smaps_rollup`, "utf8");
      const kib = Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0);
      const name = readFileSync(`/proc/${p}/comm`, "utf8").trim();
      parts.push({ pid: p, name, kib });
    } catch {
      // Exited while we looked.
    }
  }
  return { total: parts.reduce((sum, part) => sum + part.kib, 0), parts };
}
