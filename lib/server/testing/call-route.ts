// Calling a route handler as Next.js does (Request in, Response out), authenticated with a Bearer
// token: the API half of a test without a server or a build.

// Responses are read loosely: the assertions name the shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Body = Record<string, any>;
export type Handler = (req: Request, ctx: { params: Promise<Record<string, string>> }) => Promise<Response>;

export function routeCaller(token: string) {
  return async function call(
    h: Handler,
    method: string,
    path: string,
    body?: unknown,
    params: Record<string, string> = {},
  ): Promise<{ status: number; body: Body }> {
    const req = new Request(`http://127.0.0.1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const res = await h(req, { params: Promise.resolve(params) });
    return { status: res.status, body: (res.status === 204 ? null : await res.json()) as Body };
  };
}
