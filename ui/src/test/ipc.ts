// mockIPC with one handler per command, recording every call.
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach } from "vitest";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Args = Record<string, any>;
export type Handler = (args: Args) => unknown;
export interface Call {
  cmd: string;
  args: Args;
}

afterEach(() => clearMocks());

/** Answers each command with its handler; an unexpected command rejects loudly. */
export function mockCommands(handlers: Record<string, Handler>): Call[] {
  const calls: Call[] = [];
  // Events (`listen`/`emit`) are mocked too, so tests can emit what the shell would.
  mockIPC(
    (cmd, payload) => {
      const args = (payload ?? {}) as Args;
      calls.push({ cmd, args });
      const handler = handlers[cmd];
      if (!handler) return Promise.reject(`unexpected command ${cmd}`);
      return handler(args);
    },
    { shouldMockEvents: true },
  );
  return calls;
}

export const callsOf = (calls: Call[], cmd: string): Args[] =>
  calls.filter((c) => c.cmd === cmd).map((c) => c.args);

/** A promise with its resolve and reject exposed, to finish a command when the test says so. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
