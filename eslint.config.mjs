import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

// Import boundaries of DESIGN.md §1. Each message says how to fix the violation.
const NO_FRAMEWORKS = [
  { name: 'react', message: 'lib/workflow and lib/engine stay pure: move UI code to components/.' },
  { name: 'react-dom', message: 'lib/workflow and lib/engine stay pure: move UI code to components/.' },
  {
    name: '@prisma/client',
    message:
      'The engine talks to storage through TraceStore (lib/engine/trace-store.ts); put Prisma code in lib/db.',
  },
  { name: 'pg', message: 'The engine talks to storage through TraceStore; put database code in lib/db.' },
  { name: 'pg-boss', message: 'Queue code belongs in lib/db; the engine stays storage-agnostic.' },
];
const NO_FRAMEWORK_PATTERNS = [
  {
    group: ['next', 'next/*'],
    message: 'lib/workflow and lib/engine never import Next.js: keep HTTP concerns in app/ and lib/server.',
  },
  {
    group: ['@prisma/*', '@electric-sql/*', 'pglite-prisma-adapter'],
    message: 'Storage lives in lib/db behind the TraceStore interface.',
  },
  {
    group: ['@/lib/db', '@/lib/db/*', '**/lib/db/*'],
    message: 'The engine reaches storage only through the TraceStore interface; inject a store instead.',
  },
  { group: ['@/lib/server', '@/lib/server/*'], message: 'Core modules never depend on the HTTP layer.' },
  { group: ['@/components/*', '@/app/*'], message: 'Core modules never import UI code.' },
];
// DESIGN.md §10: lib/telemetry is the only place that imports the OpenTelemetry SDK.
const NO_OTEL_SDK = {
  group: ['@opentelemetry/*'],
  message:
    'Only lib/telemetry imports OpenTelemetry: the engine calls its Tracer interface (lib/engine/tracing.ts), hosts pass engineTracer() from lib/telemetry.',
};

// The layering of DESIGN.md §1: which lib/ folders each lib/ folder may import (lib/server, cli/
// and app/ sit on top and may import any). scripts/check-cycles.mjs checks the same graph has no
// cycles; these rules say which way each edge must point. lib/payload, lib/import and
// lib/telemetry have their own blocks below.
const LIB_FOLDERS = [
  'workflow',
  'payload',
  'import',
  'net',
  'browser',
  'nodes',
  'sandbox',
  'agent',
  'engine',
  'promotion',
  'telemetry',
  'db',
  'auth',
  'secrets',
  'queue',
  'server',
];
const MAY_IMPORT = {
  workflow: [],
  net: ['workflow', 'payload'],
  sandbox: ['workflow', 'payload'],
  browser: ['workflow', 'payload', 'net'],
  nodes: ['workflow', 'payload', 'net', 'sandbox', 'browser'],
  agent: ['workflow', 'payload', 'net', 'nodes'],
  engine: ['workflow', 'payload', 'net', 'nodes', 'agent'],
  promotion: ['workflow', 'payload', 'net', 'nodes', 'agent', 'engine'],
  db: ['workflow', 'payload', 'engine', 'promotion'],
  auth: ['workflow', 'payload', 'db'],
  secrets: ['workflow', 'payload', 'db'],
  queue: ['workflow', 'payload', 'nodes', 'engine', 'promotion', 'db', 'telemetry'],
};
const WHY = {
  sandbox:
    'the engine gets evaluate/runCode/render injected as services (createSandboxServices() in the host)',
  agent: 'nodes get the model client injected as services.chat',
  server: 'HTTP handlers belong in lib/server, which imports the rest',
};
const forbiddenFor = (folder) => LIB_FOLDERS.filter((f) => f !== folder && !MAY_IMPORT[folder].includes(f));
const layerMessage = (folder, f) =>
  `lib/${folder} may import only ${MAY_IMPORT[folder].map((x) => `lib/${x}`).join(', ') || 'nothing else of ours'} (DESIGN.md §1), not lib/${f}` +
  (WHY[f] ? `: ${WHY[f]}.` : ': move the shared part below both, or inject it.');
/** Static imports of folders `folder` may not use (the ones `skip` already words better are left out). */
const layerPatterns = (folder, skip = []) =>
  forbiddenFor(folder)
    .filter((f) => !skip.includes(f))
    .map((f) => ({
      group: [`@/lib/${f}`, `@/lib/${f}/*`, `**/lib/${f}/*`],
      message: layerMessage(folder, f),
    }));
// no-restricted-imports does not see import(); the same rules for dynamic imports. esquery regexes
// cannot hold '/', hence '.' where a slash goes.
const FRAMEWORK_RE =
  '^(react|react-dom|next|pg|pg-boss|pglite-prisma-adapter)($|[^a-z])|^@(prisma|electric-sql|opentelemetry)[^a-z]';
const FRAMEWORK_IMPORT = {
  selector: `ImportExpression[source.value=/${FRAMEWORK_RE}/]`,
  message:
    'import(): lib/workflow, lib/engine and the node-level folders never load Prisma, pg, OpenTelemetry, Next.js or React.',
};
const dynamicImportRules = (folder, { frameworks = false } = {}) => [
  ...forbiddenFor(folder).map((f) => ({
    selector: `ImportExpression[source.value=/^@.lib.${f}($|[^a-z-])/]`,
    message: `import(): ${layerMessage(folder, f)}`,
  })),
  ...(frameworks ? [FRAMEWORK_IMPORT] : []),
];
/** import() of any lib/ folder but the listed ones. */
const onlyDynamic = (allowed, message) => ({
  selector: `ImportExpression[source.value=/^@.lib.(?!(${allowed.join('|')})($|[^a-z-]))/]`,
  message,
});
const PURE = ['engine', 'promotion', 'nodes', 'sandbox', 'agent', 'net', 'browser'];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '.next/**',
      '.trellis/**',
      'dist/**',
      'lib/db/generated/**',
      'next-env.d.ts',
      'test-results/**',
      'playwright-report/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        Buffer: 'readonly',
        fetch: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        window: 'readonly',
        document: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        structuredClone: 'readonly',
        queueMicrotask: 'readonly',
        performance: 'readonly',
        Response: 'readonly',
        Request: 'readonly',
        Headers: 'readonly',
        crypto: 'readonly',
        setImmediate: 'readonly',
        navigator: 'readonly',
        localStorage: 'readonly',
        EventSource: 'readonly',
        requestAnimationFrame: 'readonly',
        globalThis: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['components/**/*.{ts,tsx}', 'app/**/*.tsx'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'warn' },
  },
  {
    files: ['**/*.{ts,tsx,mjs}'],
    ignores: ['lib/telemetry/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [NO_OTEL_SDK] }] },
  },
  {
    // Telemetry translates engine events into spans; it knows no storage, HTTP or UI.
    files: ['lib/telemetry/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: NO_FRAMEWORKS, patterns: NO_FRAMEWORK_PATTERNS }] },
  },
  {
    files: ['lib/workflow/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: NO_FRAMEWORKS,
          patterns: [
            ...NO_FRAMEWORK_PATTERNS,
            NO_OTEL_SDK,
            {
              group: ['@/lib/*', '!@/lib/workflow', '!@/lib/workflow/*'],
              message:
                'lib/workflow imports nothing else of ours (DESIGN.md §1): move shared code into lib/workflow or invert the dependency.',
            },
            {
              group: ['node:*', 'fs', 'http', 'https', 'net', 'child_process'],
              message: 'lib/workflow does no I/O.',
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        onlyDynamic(['workflow'], 'import(): lib/workflow imports nothing else of ours (DESIGN.md §1).'),
        {
          selector: 'ImportExpression[source.value=/^(node:|fs$|http$|https$|net$|child_process$)/]',
          message: 'import(): lib/workflow does no I/O.',
        },
        FRAMEWORK_IMPORT,
      ],
    },
  },
  {
    files: ['lib/payload/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: NO_FRAMEWORKS,
          patterns: [
            ...NO_FRAMEWORK_PATTERNS,
            NO_OTEL_SDK,
            {
              group: ['@/lib/*', '!@/lib/payload', '!@/lib/payload/*'],
              message:
                'lib/payload sits below the engine and the stores and imports nothing else of ours: move shared code into it.',
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        onlyDynamic(['payload'], 'import(): lib/payload imports nothing else of ours.'),
        FRAMEWORK_IMPORT,
      ],
    },
  },
  {
    // Importers translate documents into definitions: pure, like lib/workflow (DESIGN.md §10).
    files: ['lib/import/**/*.ts'],
    ignores: ['**/*.test.ts', 'lib/import/testing/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: NO_FRAMEWORKS,
          patterns: [
            ...NO_FRAMEWORK_PATTERNS,
            {
              group: ['@/lib/*', '!@/lib/workflow', '!@/lib/workflow/*', '!@/lib/import', '!@/lib/import/*'],
              message:
                'lib/import is pure: it may import lib/workflow only; the caller passes anything else (e.g. the validator).',
            },
            {
              group: ['node:*', 'fs', 'http', 'https', 'net', 'child_process'],
              message: 'lib/import does no I/O.',
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        onlyDynamic(['workflow', 'import'], 'import(): lib/import may import lib/workflow only.'),
        FRAMEWORK_IMPORT,
      ],
    },
  },
  // Each other lib/ folder below lib/server gets its layer.
  ...PURE.map((folder) => ({
    files: [`lib/${folder}/**/*.ts`],
    ignores: ['**/*.test.ts', '**/*.bench.ts', '**/testing/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: NO_FRAMEWORKS,
          patterns: [...NO_FRAMEWORK_PATTERNS, NO_OTEL_SDK, ...layerPatterns(folder, ['db', 'server'])],
        },
      ],
      'no-restricted-syntax': ['error', ...dynamicImportRules(folder, { frameworks: true })],
    },
  })),
  ...['db', 'auth', 'secrets', 'queue'].map((folder) => ({
    files: [`lib/${folder}/**/*.ts`],
    ignores: ['**/*.test.ts', '**/*.bench.ts', '**/testing/**', 'lib/db/generated/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...layerPatterns(folder),
            NO_OTEL_SDK,
            { group: ['@/components/*', '@/app/*'], message: 'lib/ never imports UI code.' },
          ],
        },
      ],
      'no-restricted-syntax': ['error', ...dynamicImportRules(folder)],
    },
  })),
  {
    // Test helpers live in a `testing/` folder beside the code they test (STYLE: one convention).
    // Code that ships never imports them, so the build does not carry the scripted model server or
    // the temp-database helpers. A separate rule name, so the folder rules below keep their own.
    files: ['lib/**/*.ts', 'app/**/*.{ts,tsx}', 'components/**/*.{ts,tsx}', 'cli/**/*.ts', 'proxy.ts'],
    ignores: ['**/*.test.ts', '**/*.test.tsx', '**/testing/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/testing', '**/testing/*', '**/*.test', '**/*.test.ts'],
              message:
                'testing/ folders hold test helpers that the build does not ship: import them only from tests, benches and other testing/ files.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['components/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@/lib/db', '@/lib/db/*'],
              message: 'components/ talk to the API over HTTP; never import lib/db.',
            },
            {
              group: [
                '@/lib/engine',
                '@/lib/engine/*',
                '@/lib/server',
                '@/lib/server/*',
                '@/lib/agent',
                '@/lib/agent/*',
                '@/lib/net',
                '@/lib/net/*',
                '@/lib/sandbox',
                '@/lib/sandbox/*',
                '@/lib/nodes',
                '@/lib/nodes/*',
                '@/lib/queue',
                '@/lib/queue/*',
                '@/lib/secrets',
                '@/lib/secrets/*',
              ],
              message:
                'components/ may import lib/workflow (types, validation) and node metadata only; call the API for the rest.',
            },
            { group: ['@prisma/*', 'pg', 'pg-boss'], message: 'components/ never touch the database.' },
            NO_OTEL_SDK,
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        onlyDynamic(
          ['workflow', 'payload'],
          'import(): components/ may import lib/workflow only; call the API for the rest.',
        ),
      ],
    },
  },
);
