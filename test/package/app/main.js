// Vite and webpack: nothing to configure; the package's wasm and worker URLs are followed.
import { run } from "./run.js";

window.zbResult = run();
