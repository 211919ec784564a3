import { expect } from 'chai';
import { startGitHubDouble } from '../../local/github-double/start-github-double.ts';

describe('GitHub double start-up', () => {
  it('starts in well under 2 s: the REST description is read once, validators compile lazily', async () => {
    const started = performance.now();
    const double = await startGitHubDouble();
    const elapsed = performance.now() - started;
    try {
      expect(elapsed).to.be.below(2000);
      // Started means serving: the first request compiles only its own operation's validators.
      const res = await fetch(`${double.apiUrl}/app`);
      expect(res.status).to.equal(401);
    } finally {
      await double.close();
    }
  });
});
