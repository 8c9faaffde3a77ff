import { startLocalServer, type LocalServer } from '@/lib/net/testing/local-server';
import { MAX_DOM_SNAPSHOT_BYTES } from '../limits';

// The browser step's fixture site on 127.0.0.1: a login form, a paginated table behind it, a
// product page, and its "redesigned" variant (?v=2) where the add button has a new label and place
// and a decoy control reuses the old selector. Also pages that try to reach what they must not.

export const FIXTURE_USER = 'alice';
export const FIXTURE_ORDERS = [
  { Order: 'A-100', Item: 'Mug', Total: '$12.00' },
  { Order: 'A-101', Item: 'Teapot', Total: '$31.50' },
  { Order: 'A-102', Item: 'Spoon', Total: '$3.25' },
  { Order: 'A-103', Item: 'Kettle', Total: '$48.00' },
  { Order: 'A-104', Item: 'Tray', Total: '$19.90' },
];
export const ORDERS_PER_PAGE = 3;

const page = (title: string, body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:sans-serif;margin:24px}section{border:1px solid #ccc;padding:12px;margin:12px 0}</style>
</head><body>${body}</body></html>`;

const ADD_SCRIPT = `<script>
for (const b of document.querySelectorAll('button[data-says]')) b.addEventListener('click', () => {
  document.getElementById('status').textContent = b.dataset.says;
});
</script>`;

function product(redesigned: boolean): string {
  if (!redesigned)
    return page(
      'Trellis Mug',
      `<h1>Trellis Mug</h1><p>A sturdy mug.</p>
<section aria-label="Buy"><p class="price">$12.00</p>
<button id="add-to-cart" class="primary" data-says="Added to cart">Add to cart</button></section>
<p role="status" id="status"></p>${ADD_SCRIPT}`,
    );
  return page(
    'Trellis Mug',
    `<h1>Trellis Mug</h1>
<section aria-label="Save for later"><button id="add-to-cart" class="primary" data-says="Saved to wishlist">Add to wishlist</button></section>
<p>A sturdy mug, now in three colours.</p>
<section aria-label="Checkout"><p class="price">$12.00</p>
<button id="buy" data-says="Added to basket">Add to basket</button></section>
<p role="status" id="status"></p>${ADD_SCRIPT}`,
  );
}

export interface FixtureSite extends LocalServer {
  /** host:port, for allowHosts. */
  hostPort: string;
  /** Passwords the login form received (to prove the secret was typed). */
  logins: string[];
}

/**
 * `password` is what the login form accepts. `elsewhere` is a URL (another local server) that the
 * SSRF pages try to reach.
 */
export async function startFixtureSite(opts: { password: string; elsewhere: string }): Promise<FixtureSite> {
  const logins: string[] = [];
  const server = await startLocalServer((req, res) => {
    const url = new URL(req.url, 'http://fixture');
    const html = (body: string, status = 200, headers: Record<string, string | string[]> = {}) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...headers });
      res.end(body);
    };
    const signedIn = /(?:^|;\s*)session=ok/.test(String(req.headers.cookie ?? ''));
    switch (url.pathname) {
      case '/login':
        if (req.method === 'POST') {
          const form = new URLSearchParams(req.body);
          logins.push(form.get('password') ?? '');
          if (form.get('username') === FIXTURE_USER && form.get('password') === opts.password)
            return html('', 302, {
              location: '/orders?page=1',
              'set-cookie': 'session=ok; Path=/; HttpOnly',
            });
          return html(page('Sign in', '<p role="alert">Wrong user name or password</p>'), 401);
        }
        return html(
          page(
            'Sign in',
            `<h1>Sign in</h1><form method="post" action="/login">
<label>User name <input name="username"></label>
<label>Password <input name="password" type="password"></label>
<button type="submit">Sign in</button></form>`,
          ),
        );
      case '/orders': {
        if (!signedIn) return html('', 302, { location: '/login' });
        const n = Math.max(1, Number(url.searchParams.get('page') ?? 1));
        const rows = FIXTURE_ORDERS.slice((n - 1) * ORDERS_PER_PAGE, n * ORDERS_PER_PAGE);
        const more = n * ORDERS_PER_PAGE < FIXTURE_ORDERS.length;
        return html(
          page(
            `Orders, page ${n}`,
            `<h1>Orders</h1><p>Signed in as ${FIXTURE_USER}</p>
<table><caption>Orders</caption><thead><tr><th>Order</th><th>Item</th><th>Total</th></tr></thead><tbody>
${rows.map((r) => `<tr><td>${r.Order}</td><td>${r.Item}</td><td>${r.Total}</td></tr>`).join('')}
</tbody></table>
<nav aria-label="Pages">${more ? `<a href="/orders?page=${n + 1}">Next page</a>` : '<span>Last page</span>'}</nav>`,
          ),
        );
      }
      case '/product':
        return html(product(url.searchParams.get('v') === '2'));
      case '/leaky':
        // Subrequests to a host outside the allow-list and to the cloud metadata address.
        return html(
          page(
            'Leaky',
            `<h1>Leaky</h1><img alt="pixel" src="${opts.elsewhere}/pixel.png">
<script>fetch('http://169.254.169.254/latest/meta-data/').catch(() => {}); window.open(${JSON.stringify(`${opts.elsewhere}/popup`)});</script>`,
          ),
        );
      case '/post-away':
        // A form whose POST is answered with a redirect off the allowed host.
        if (req.method === 'POST') return html('', 303, { location: `${opts.elsewhere}/landing` });
        return html(page('Post away', '<form method="post"><button type="submit">Send</button></form>'));
      case '/send': {
        // A form and a fetch() that POST to /redirect/<status>, which answers with that status
        // towards /echo: the next page (or the fetch's result) shows the method and body that came.
        const status = url.searchParams.get('status') ?? '307';
        return html(
          page(
            'Send',
            `<h1>Send</h1><form method="post" action="/redirect/${status}"><input name="note" value="kept">
<button type="submit">Post form</button></form>
<button type="button" id="f">Post with fetch</button><p role="status" id="out"></p>
<script>document.getElementById('f').addEventListener('click', async () => {
  const r = await fetch('/redirect/${status}', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'note=kept' });
  const d = new DOMParser().parseFromString(await r.text(), 'text/html');
  document.getElementById('out').textContent = d.getElementById('method').textContent + ' ' + d.getElementById('body').textContent;
});</script>`,
          ),
        );
      }
      case '/mirror':
        // Echoes what is typed into the page's own text: a DOM snapshot would carry it.
        return html(
          page(
            'Mirror',
            `<h1>Mirror</h1><label>Token <input id="t"></label><p id="m"></p>
<script>document.getElementById('t').addEventListener('input', (e) => { document.getElementById('m').textContent = 'typed: ' + e.target.value; });</script>`,
          ),
        );
      case '/big':
        // Larger than one DOM snapshot may be.
        return html(page('Big', `<h1>Big</h1><p>${'x'.repeat(MAX_DOM_SNAPSHOT_BYTES + 100_000)}</p>`));
      case '/echo':
        return html(
          page(
            'Echo',
            `<h1>Echo</h1><p id="method">${req.method}</p><p id="body">${req.body.replace(/[<&]/g, '')}</p>`,
          ),
        );
      case '/to-private':
        return html('', 302, { location: 'http://10.0.0.1/admin' });
      case '/to-elsewhere':
        return html('', 302, { location: `${opts.elsewhere}/landing` });
      default: {
        const redirect = /^\/redirect\/(30[12378])$/.exec(url.pathname);
        if (redirect) return html('', Number(redirect[1]), { location: '/echo' });
        return html(page('Not found', '<h1>Not found</h1>'), 404);
      }
    }
  });
  return Object.assign(server, { hostPort: `${server.host}:${server.port}`, logins });
}
