import http from 'node:http';
import { Readable } from 'node:stream';
import { demoApi } from './demo-api';
import { assertRequestShape, toErrorResponse } from './route';

/**
 * Serves the demo API on 127.0.0.1 outside Next.js, so `trellis run examples/…` works headless.
 * Returns its base URL (what the examples read as env.TRELLIS_DEMO_URL). The body is handed on
 * as a stream, never buffered here: the demo API reads it with its own byte limit.
 */
export async function startDemoServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname.replace(/^\/+/, '').split('/').filter(Boolean);
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    let response: Response;
    try {
      const request = new Request(url, {
        method: req.method,
        headers: req.headers as Record<string, string>,
        body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
        ...(hasBody ? { duplex: 'half' } : {}),
      } as RequestInit);
      assertRequestShape(request);
      response = await demoApi(request, path);
    } catch (err) {
      response = toErrorResponse(err, { oneLine: `${req.method} ${url.pathname}` });
    }
    const headers = Object.fromEntries(response.headers);
    // A refused body is not drained: the connection closes instead of reading the rest.
    if (response.status === 413) headers.connection = 'close';
    res.writeHead(response.status, headers);
    res.end(Buffer.from(await response.arrayBuffer()), () => {
      if (response.status === 413) req.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
