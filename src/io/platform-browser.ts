// The browser side of "#platform" (see ./platform-node.ts): the same exports, no Node
// built-ins. Local files do not exist here.
import { ZarrBlosc2Error } from "../errors.js";

type Platform = typeof import("./platform-node.js");

export const readLocalFile: Platform["readLocalFile"] = undefined;
export const writeLocalFile: Platform["writeLocalFile"] = undefined;
export const cpuCount: Platform["cpuCount"] = undefined;
export const NodeWorker: Platform["NodeWorker"] = undefined;
export const nodeParentPort: Platform["nodeParentPort"] = undefined;

export const localFiles: Platform["localFiles"] = () =>
  Promise.reject(
    new ZarrBlosc2Error("local paths need Node: in a browser, open a URL, bytes or a ByteSource"),
  );
