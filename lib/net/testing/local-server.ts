import http from 'node:http';
import type { AddressInfo } from 'node:net';

// A real HTTP server on 127.0.0.1 for tests: records each request and lets a test script replies.
export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface LocalServer {
  url: string;
  port: number;
  host: string;
  requests: SeenRequest[];
  /** Sockets the server saw close (for abort tests). */
  closedSockets: number;
  connections: number;
  close(): Promise<void>;
}

export async function startLocalServer(
  handler: (req: SeenRequest, res: http.ServerResponse, raw: http.IncomingMessage) => void,
  host = '127.0.0.1',
): Promise<LocalServer> {
  const state = { closedSockets: 0, connections: 0 };
  const requests: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(seen);
      handler(seen, res, req);
    });
  });
  server.on('connection', (socket) => {
    state.connections++;
    socket.on('close', () => state.closedSockets++);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    host,
    requests,
    get closedSockets() {
      return state.closedSockets;
    },
    get connections() {
      return state.connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
