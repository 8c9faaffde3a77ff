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
  ],
  poweredByHeader: false,
};
export default nextConfig;
