/** A local HTTP server on 127.0.0.1 for download tests: serves fixed bytes, honours Range, can misbehave. */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Route {
  body: Uint8Array;
  /** The first request gets the headers and half the body, then the connection is destroyed. */
  dropFirst?: boolean;
  /** Always answer 200 with the whole body, ignoring Range. */
  ignoreRange?: boolean;
  /** Answer this status with an empty body. */
  status?: number;
}

export interface TestServer {
  url(path: string): string;
  requests: Array<{ path: string; range: string | undefined }>;
  close(): Promise<void>;
}

export function md5(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

export async function startServer(routes: Record<string, Route>): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  const served = new Map<string, number>();
  const server = http.createServer((request, response) => {
    const path = request.url ?? '/';
    const range = request.headers.range;
    requests.push({ path, range });
    const route = routes[path];
    if (!route) {
      response.writeHead(404).end();
      return;
    }
    if (route.status !== undefined) {
      response.writeHead(route.status).end();
      return;
    }
    const count = served.get(path) ?? 0;
    served.set(path, count + 1);
    const total = route.body.length;
    let start = 0;
    const match = /^bytes=(\d+)-$/.exec(range ?? '');
    if (match && !route.ignoreRange) {
      start = Number(match[1]);
      if (start >= total) {
        response.writeHead(416, { 'content-range': `bytes */${total}` }).end();
        return;
      }
      response.writeHead(206, {
        'content-length': total - start,
        'content-range': `bytes ${start}-${total - 1}/${total}`,
        'accept-ranges': 'bytes',
      });
    } else {
      response.writeHead(200, { 'content-length': total, 'accept-ranges': 'bytes' });
    }
    const body = Buffer.from(route.body.buffer, route.body.byteOffset, route.body.byteLength).subarray(start);
    if (route.dropFirst && count === 0) {
      response.write(body.subarray(0, Math.floor(body.length / 2)), () => {
        setTimeout(() => response.socket?.destroy(), 20);
      });
      return;
    }
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
