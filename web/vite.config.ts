// Builds the workbench into the Python package: `plumetrace serve` serves it at "/".
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  build: {
    outDir: "../src/plumetrace/api/static",
    emptyOutDir: true,
    // Chart.js and Leaflet make one chunk of ~400 kB: fine for an internal tool
    chunkSizeWarningLimit: 1000,
  },
  server: {
    // `npx vite` during development: the API runs on `plumetrace serve` (port 8000)
    proxy: { "/api": "http://127.0.0.1:8000", "/openapi.json": "http://127.0.0.1:8000" },
  },
});
