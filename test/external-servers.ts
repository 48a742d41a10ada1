// Real HTTP servers for tests, started and stopped by the test: nginx (Debian's package,
// installed by scripts/setup.sh) and Python's http.server (which ignores Range). Both listen
// on 127.0.0.1 with a port picked at test time and keep their files in a temp directory.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { python, ROOT } from "./helpers.js";

export interface ExternalServer {
  /** Base URL without a trailing slash. */
  url: string;
  /** What the server wrote to stderr (Python: one line per request). */
  log(): string;
  close(): Promise<void>;
}

const NGINX = "/usr/sbin/nginx";

/** A port that was free a moment ago (the server that takes it retries if it is not). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

/** Resolves once `url` answers (any status), rejects when the process exits first. */
async function waitUntilUp(url: string, child: ChildProcess, what: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`server exited (${child.exitCode ?? child.signalCode}): ${what()}`);
    }
    try {
      const res = await fetch(url, { method: "HEAD" });
      await res.body?.cancel();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`server did not come up: ${what()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export interface NginxOptions {
  /** Requests served on one keep-alive connection before nginx closes it (default 10). */
  keepaliveRequests?: number;
  /** How long an idle keep-alive connection stays open, in nginx syntax (default "75s"). */
  keepaliveTimeout?: string;
}

/** nginx serving `root` (daemon off, its own prefix, pid, logs and temp paths). */
export async function startNginx(
  root: string,
  options: NginxOptions = {},
): Promise<ExternalServer> {
  if (!existsSync(NGINX)) {
    execFileSync("bash", [`${ROOT}scripts/setup.sh`, "--no-build"], { stdio: "inherit" });
  }
  // Its workers run as an unprivileged user: they must be able to read the files.
  chmodSync(root, 0o755);
  const prefix = mkdtempSync(join(tmpdir(), "zb2-nginx-"));
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const conf = join(prefix, "nginx.conf");
    writeFileSync(
      conf,
      `daemon off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  default_type application/octet-stream;
  keepalive_requests ${options.keepaliveRequests ?? 10};
  keepalive_timeout ${options.keepaliveTimeout ?? "75s"};
  server {
    listen 127.0.0.1:${port};
    root ${root};
  }
}
`,
    );
    let stderr = "";
    const child = spawn(NGINX, ["-p", prefix, "-c", conf, "-e", `${prefix}/error.log`], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const errorLog = () => {
      const file = join(prefix, "error.log");
      return `${stderr}${existsSync(file) ? readFileSync(file, "utf8") : ""}`;
    };
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitUntilUp(`${url}/`, child, errorLog);
    } catch (err) {
      await stop(child);
      // Someone took the port between the probe and nginx: another one.
      if (attempt < 5 && /Address already in use/.test(errorLog())) continue;
      rmSync(prefix, { recursive: true, force: true });
      throw err;
    }
    return {
      url,
      log: errorLog,
      async close() {
        await stop(child);
        rmSync(prefix, { recursive: true, force: true });
      },
    };
  }
}

/** `python -m http.server` serving `root`: no Range support, 404 pages in HTML. */
export async function startPythonHttp(root: string): Promise<ExternalServer> {
  const child = spawn(
    python(),
    ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", root],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`http.server did not start: ${stderr}`)),
      30_000,
    );
    child.stdout!.on("data", (d: Buffer) => {
      stdout += d.toString();
      const m = /port (\d+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`http.server exited (${code}): ${stderr}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    log: () => stderr,
    close: () => stop(child),
  };
}
