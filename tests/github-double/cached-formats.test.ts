import { expect } from 'chai';
import { Ajv } from 'ajv';
import { addCachedFormats } from '../../local/github-double/cached-formats.ts';

describe('GitHub double: string formats remembered per string', () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addCachedFormats(ajv);

  for (const [format, good, bad] of [
    ['uri', 'http://127.0.0.1:4000/api/v3/repos/acme/app', 'not a uri'],
    ['uri-template', 'http://127.0.0.1/repos/acme/app/git/blobs{/sha}', 'http://x/{unclosed'],
    ['date-time', '2026-01-02T03:04:05Z', '2026-13-02T03:04:05Z'],
    ['email', 'octocat@github.com', 'octocat@'],
  ] as const) {
    it(`answers ${format} as the full check does, the first time and every time after`, () => {
      const validate = ajv.compile({ type: 'string', format });
      for (let i = 0; i < 3; i++) {
        expect(validate(good), `${good} (${i})`).to.equal(true);
        expect(validate(bad), `${bad} (${i})`).to.equal(false);
      }
    });
  }
});
