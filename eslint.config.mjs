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

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '.next/**',
      '.trellis/**',
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
    },
  },
  {
    files: [
      'lib/engine/**/*.ts',
      'lib/nodes/**/*.ts',
      'lib/sandbox/**/*.ts',
      'lib/agent/**/*.ts',
      'lib/net/**/*.ts',
    ],
    ignores: ['**/*.test.ts', '**/*.bench.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: NO_FRAMEWORKS, patterns: [...NO_FRAMEWORK_PATTERNS, NO_OTEL_SDK] },
      ],
    },
  },
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
              ],
              message:
                'components/ may import lib/workflow (types, validation) and node metadata only; call the API for the rest.',
            },
            { group: ['@prisma/*', 'pg', 'pg-boss'], message: 'components/ never touch the database.' },
            NO_OTEL_SDK,
          ],
        },
      ],
    },
  },
);
