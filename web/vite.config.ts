// The studio's UI, built into the Python package (python3 scripts/build_ui.py), which serves
// it at "/" beside the API. `npm run dev` serves these sources and passes /api on to a
// `runyard server --port 8765` (web/README.md).
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  esbuild: { jsx: "automatic" },
  build: {
    outDir: "../python/runyard/studio/ui",
    emptyOutDir: true,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    proxy: { "/api": "http://127.0.0.1:8765" },
  },
});
