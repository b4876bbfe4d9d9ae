import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import type { BackupSettingsView } from "../bindings/BackupSettingsView";
import type { BackupView } from "../bindings/BackupView";
import { AppState } from "../state/app.svelte";
import { callsOf, deferred, mockCommands, type Handler } from "../../test/ipc";
import { connection } from "../../test/fixtures";
import SettingsView from "./SettingsView.svelte";

const settings: BackupSettingsView = {
  folder: "/home/me/.local/share/switchboard/backups",
  default_folder: "/home/me/.local/share/switchboard/backups",
  is_default: true,
  retention: "The newest backup of each of the last 7 days and of each of the last 4 weeks that have one.",
};

function backup(overrides: Partial<BackupView> = {}): BackupView {
  return {
    id: "20240501T100000Z-abc123",
    kind: "manual",
    created_at: "2024-05-01T10:00:00Z",
    path: "/home/me/.local/share/switchboard/backups/switchboard-20240501T100000Z-abc123.db",
    size_bytes: 2_400_000,
    workspace_uuid: "ws-1",
    this_workspace: true,
    schema_version: 6,
    counts: [
      { table: "connections", rows: 1 },
      { table: "payments", rows: 3000 },
    ],
    verified_at: "2024-05-01T10:00:01Z",
    verified_ok: true,
    problem: null,
    ...overrides,
  };
}

function setup(handlers: Record<string, Handler>) {
  const calls = mockCommands({
    get_backup_settings: () => settings,
    list_backups: () => [backup()],
    // The Webhooks section on the same screen.
    get_webhook_settings: () => ({
      enabled: false,
      port: 8723,
      running: false,
      listening_on: null,
      error: null,
      connections: [],
    }),
    list_webhook_events: () => [],
    // And the Payment requests section.
    payment_request_settings: () => ({ return_url: null }),
    ...handlers,
  });
  const app = new AppState();
  app.connections = [connection()];
  app.connectionsLoaded = true;
  render(SettingsView, { app });
  return { app, calls };
}

describe("settings → backups", () => {
  it("lists backups with their size, contents and verified state", async () => {
    setup({
      list_backups: () => [
        backup({ id: "20240502T100000Z-def456", kind: "pre_restore", verified_ok: false, problem: "Page 4 is damaged." }),
        backup(),
      ],
    });
    const rows = await screen.findAllByTestId("backup-row");
    expect(rows).toHaveLength(2);
    const [safety, plain] = rows as [HTMLElement, HTMLElement];
    expect(plain.textContent).toContain("2.4 MB");
    expect(plain.textContent).toContain("3,000");
    expect(plain.textContent).toContain("3,001");
    expect(plain.querySelector(".chip")?.textContent).toBe("Verified");
    expect(safety.textContent).toContain("Before a restore");
    const damaged = safety.querySelector<HTMLElement>(".chip")!;
    expect(damaged.textContent).toBe("Damaged");
    expect(damaged.classList.contains("bad")).toBe(true);
    expect(damaged.title).toBe("Page 4 is damaged.");
    expect((screen.getByTestId("backup-folder") as HTMLInputElement).value).toBe(settings.folder);
  });

  it("says what to do when there are no backups yet", async () => {
    setup({ list_backups: () => [] });
    const empty = await screen.findByTestId("backups-empty");
    expect(empty.textContent).toContain("No backups yet");
    expect(empty.textContent).toContain("Back up now");
    expect(empty.textContent).toContain(settings.folder);
  });

  it("backs up now with a busy state, then lists again", async () => {
    const made = deferred<BackupView>();
    let listed = [backup()];
    const { calls } = setup({
      create_backup: () => made.promise,
      list_backups: () => listed,
    });
    const button = await screen.findByTestId("backup-now");
    await fireEvent.click(button);
    expect(button.textContent?.trim()).toBe("Backing up…");
    expect((button as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId("backup-progress")).toBeTruthy();
    const fresh = backup({ id: "20240503T100000Z-aaaaaa", created_at: "2024-05-03T10:00:00Z" });
    listed = [fresh, backup()];
    made.resolve(fresh);
    await waitFor(() => expect(screen.getAllByTestId("backup-row")).toHaveLength(2));
    expect(screen.getByTestId("backup-notice").textContent).toContain("verified");
    expect(callsOf(calls, "create_backup")).toHaveLength(1);
    expect((button as HTMLButtonElement).disabled).toBe(false);
  });

  it("verifies a backup and shows what is wrong with a damaged one", async () => {
    const { calls } = setup({
      verify_backup: () => ({
        backup: backup({ verified_ok: false, problem: "payments: 2990 rows, 3000 when made" }),
        ok: false,
        integrity: "ok",
        checksum_ok: false,
        counts: [],
        problems: ["The file changed since the backup was made (checksum differs)."],
      }),
    });
    const row = await screen.findByTestId("backup-row");
    await fireEvent.click(within(row).getByTestId("verify-backup"));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("checksum differs");
    expect(callsOf(calls, "verify_backup")).toEqual([{ id: "20240501T100000Z-abc123" }]);
    await waitFor(() => expect(screen.getByTestId("backup-row").querySelector(".chip")?.textContent).toBe("Damaged"));
  });

  it("asks before restoring, says the current database is kept, and reloads after", async () => {
    const { app, calls } = setup({
      restore_backup: () => ({
        restored: backup(),
        safety_backup: backup({ id: "20240504T100000Z-bbbbbb", kind: "pre_restore", created_at: "2024-05-04T10:00:00Z" }),
        moved_aside: null,
        counts: [],
      }),
      get_workspace: () => ({ kind: "real", path: "/home/me/.local/share/switchboard" }),
      list_connections: () => [connection()],
    });
    const row = await screen.findByTestId("backup-row");
    await fireEvent.click(within(row).getByTestId("restore-backup"));
    const dialog = await screen.findByTestId("restore-dialog");
    expect(within(dialog).getByTestId("restore-keeps-current").textContent).toContain(
      "The current database is kept as a backup first",
    );
    // A backup of this workspace needs no key file.
    expect(within(dialog).queryByTestId("restore-key-file")).toBeNull();
    expect(callsOf(calls, "restore_backup")).toHaveLength(0);
    const version = app.dataVersion;
    await fireEvent.click(within(dialog).getByTestId("confirm-restore"));
    await waitFor(() => expect(screen.queryByTestId("restore-dialog")).toBeNull());
    expect(callsOf(calls, "restore_backup")).toEqual([
      { id: "20240501T100000Z-abc123", keyFile: null, passphrase: null },
    ]);
    expect(screen.getByTestId("backup-notice").textContent).toContain("kept as the backup from");
    // The workspace was reopened: it and every data screen reload.
    await waitFor(() => expect(app.dataVersion).toBe(version + 1));
    expect(callsOf(calls, "get_workspace")).toHaveLength(1);
  });

  it("cancelling the restore changes nothing", async () => {
    const { calls } = setup({});
    const row = await screen.findByTestId("backup-row");
    await fireEvent.click(within(row).getByTestId("restore-backup"));
    const dialog = await screen.findByTestId("restore-dialog");
    await fireEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByTestId("restore-dialog")).toBeNull();
    expect(callsOf(calls, "restore_backup")).toHaveLength(0);
  });

  it("asks for the key file of another workspace's backup and forgets the passphrase", async () => {
    const { calls } = setup({
      list_backups: () => [backup({ this_workspace: false, workspace_uuid: "ws-old" })],
      restore_backup: () =>
        Promise.reject({ code: "secret_store", message: "The passphrase does not open this master key file.", retryable: false }),
    });
    const row = await screen.findByTestId("backup-row");
    expect(row.textContent).toContain("another workspace");
    await fireEvent.click(within(row).getByTestId("restore-backup"));
    const dialog = await screen.findByTestId("restore-dialog");
    await fireEvent.input(within(dialog).getByTestId("restore-key-file"), { target: { value: "/media/usb/key.json" } });
    const pass = within(dialog).getByTestId("restore-passphrase") as HTMLInputElement;
    pass.value = "a long passphrase here";
    await fireEvent.click(within(dialog).getByTestId("confirm-restore"));
    expect(pass.value).toBe("");
    const error = await within(dialog).findByTestId("restore-error");
    expect(error.textContent).toContain("passphrase does not open");
    expect(callsOf(calls, "restore_backup")).toEqual([
      { id: "20240501T100000Z-abc123", keyFile: "/media/usb/key.json", passphrase: "a long passphrase here" },
    ]);
  });

  it("exports the master key with the passphrase twice and a clear warning", async () => {
    const { calls } = setup({
      export_master_key: () => ({ path: "/media/usb/switchboard-master-key-ws1.json", workspace_uuid: "ws-1" }),
    });
    await fireEvent.click(await screen.findByTestId("export-key"));
    const dialog = await screen.findByTestId("export-dialog");
    expect(within(dialog).getByTestId("export-warning").textContent).toContain(
      "Anyone with this file and its passphrase can read the API keys",
    );
    await fireEvent.input(within(dialog).getByTestId("export-to"), { target: { value: "/media/usb" } });
    const first = within(dialog).getByTestId("export-passphrase") as HTMLInputElement;
    const second = within(dialog).getByTestId("export-passphrase-again") as HTMLInputElement;

    first.value = "correct horse battery staple";
    second.value = "correct horse battery stapel";
    await fireEvent.click(within(dialog).getByTestId("confirm-export"));
    expect((await within(dialog).findByTestId("export-error")).textContent).toContain("differ");
    expect(first.value).toBe("");
    expect(second.value).toBe("");
    expect(callsOf(calls, "export_master_key")).toHaveLength(0);

    first.value = "correct horse battery staple";
    second.value = "correct horse battery staple";
    await fireEvent.click(within(dialog).getByTestId("confirm-export"));
    await waitFor(() => expect(screen.queryByTestId("export-dialog")).toBeNull());
    expect(callsOf(calls, "export_master_key")).toEqual([
      { to: "/media/usb", passphrase: "correct horse battery staple" },
    ]);
    expect(screen.getByTestId("backup-notice").textContent).toContain("/media/usb/switchboard-master-key-ws1.json");
  });

  it("saves a chosen folder and goes back to the default", async () => {
    const chosen = { ...settings, folder: "/home/me/Dropbox/Switchboard", is_default: false };
    const { calls } = setup({
      set_backup_folder: (args) => (args.folder ? chosen : settings),
    });
    const input = (await screen.findByTestId("backup-folder")) as HTMLInputElement;
    await fireEvent.input(input, { target: { value: "/home/me/Dropbox/Switchboard" } });
    await fireEvent.click(screen.getByTestId("save-folder"));
    await waitFor(() => expect(screen.getByTestId("default-folder")).toBeTruthy());
    await fireEvent.click(screen.getByTestId("default-folder"));
    await waitFor(() => expect(screen.queryByTestId("default-folder")).toBeNull());
    expect(callsOf(calls, "set_backup_folder")).toEqual([{ folder: "/home/me/Dropbox/Switchboard" }, { folder: null }]);
    expect(input.value).toBe(settings.folder);
  });
});
