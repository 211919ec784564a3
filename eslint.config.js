// Lint is part of `npm test`: typed rules catch floating promises, which lose errors in handlers.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'action/dist/', '.zekt/', 'tools/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Only the config module reads the environment (settings are named, checked and documented
    // there); an entry script may hand `process.env` to one of its loaders, nothing else.
    files: ['runtime/**/*.ts', 'automation/**/*.ts', 'platform/**/*.ts', 'tenant-stack/**/*.ts', 'local/**/*.ts', 'policy/**/*.ts', 'scripts/**/*.ts'],
    ignores: ['runtime/config.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "MemberExpression[object.name='process'][property.name='env']:not(CallExpression[callee.name=/^load(Config|EngineConfig|LocalSettings|DotEnv)$/] > MemberExpression.arguments)",
          message: 'Read settings through runtime/config.ts: pass process.env to loadConfig (or loadEngineConfig / loadLocalSettings / loadDotEnv) in an entry script.',
        },
        {
          selector: "VariableDeclarator[init.name='process'] > ObjectPattern > Property[key.name='env']",
          message: 'Read settings through runtime/config.ts, not by destructuring process.',
        },
      ],
    },
  },
  {
    // chai assertions such as `expect(x).to.exist` are property reads.
    files: ['tests/**/*.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    // The console's browser modules (plain ES modules, no build step).
    files: ['runtime/console/static/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        ['document', 'location', 'fetch', 'navigator', 'getSelection', 'setTimeout', 'Node', 'URLSearchParams', 'console', 'URL'].map((name) => [name, 'readonly']),
      ),
    },
  },
);
