import { fileURLToPath } from "node:url";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { svelteTesting } from "@testing-library/svelte/vite";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL(".", import.meta.url));

// The UI lives in ui/; `npm run build` writes ui/dist, which tauri.conf.json embeds.
export default defineConfig({
  root,
  // Keep Vite's caches with the one node_modules at the repository root.
  cacheDir: "../node_modules/.vite",
  plugins: [svelte({ configFile: false }), svelteTesting()],
  clearScreen: false,
  server: {
    // Tauri's devUrl points here; fail rather than silently move to another port.
    port: 1420,
    strictPort: true,
    watch: { ignored: ["**/src-tauri/**", "**/target/**", "**/crates/**"] },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // Vite 8 needs minify set explicitly for the production bundle.
    minify: true,
    // WebKitGTK 2.4x on Debian 12 / Ubuntu 22.04+ supports ES2021 and Intl.NumberFormat v3.
    target: "es2021",
    sourcemap: false,
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts"],
    setupFiles: ["src/test/setup.ts"],
    restoreMocks: true,
  },
});
