// Sent with every page, API answer and static file (issue 14.12). The CSP only restricts what
// cannot break the app (framing, <base>, form targets, plugins); scripts and styles stay as Next
// emits them (inline bootstrap scripts would need per-request nonces).
const SECURITY_HEADERS = [
  {
    key: 'Content-Security-Policy',
    value: "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'",
  },
  { key: 'X-Frame-Options', value: 'DENY' },
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  { key: 'Referrer-Policy', value: 'strict-origin-when-cross-origin' },
];
const ARTIFACT_CSP =
  "sandbox; default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
// Only over HTTPS (a proxy in front says so): HSTS on plain http would be ignored, and on a
// loopback install it would pin "localhost" to https for every other local app.
const HSTS = { key: 'Strict-Transport-Security', value: 'max-age=31536000; includeSubDomains' };

/** @type {import('next').NextConfig} */
const nextConfig = {
  // Native/wasm packages must stay out of the server bundle: PGlite and QuickJS load their
  // .wasm files relative to their own package folder.
  serverExternalPackages: [
    '@electric-sql/pglite',
    'pglite-prisma-adapter',
    'pg-boss',
    'pg',
    'quickjs-emscripten',
    '@prisma/client',
    '@prisma/adapter-pg',
    // The browser node drives Chromium through it; it loads its own files at run time.
    'playwright-core',
  ],
  poweredByHeader: false,
  // Route modules load on their first request, not all at start (issue 21, idle memory): Turbopack
  // gives every route its own copy of the shared server chunks, so preloading the ~60 routes held
  // ~15 MB of JavaScript heap that most processes never use. A route's first request pays its load.
  experimental: { preloadEntriesOnStart: false },
  async headers() {
    return [
      { source: '/:path*', headers: SECURITY_HEADERS },
      // A stored artifact may be a page's HTML (a browser step's DOM snapshot): it must never run
      // or load anything on this origin. Later entries override earlier ones for the same key.
      {
        source: '/api/runs/:id/artifacts/:artifactId',
        headers: [{ key: 'Content-Security-Policy', value: ARTIFACT_CSP }],
      },
      {
        source: '/:path*',
        has: [{ type: 'header', key: 'x-forwarded-proto', value: 'https' }],
        headers: [HSTS],
      },
    ];
  },
};
export default nextConfig;
