import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { ConfigError, loadConfig, settings } from '../../runtime/config.ts';

const azurite = 'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:1/devstoreaccount1;';

describe('configuration', () => {
  it('reads a connection string and applies defaults', () => {
    const config = loadConfig({ ZEKT_STORAGE_CONNECTION_STRING: azurite });
    expect(config.storage).to.deep.equal({ kind: 'connection-string', connectionString: azurite });
    expect(config.port).to.equal(7071);
    expect(config.github.apiUrl).to.equal('https://api.github.com');
  });

  it('selects identity-based storage by configuration only', () => {
    const config = loadConfig({
      ZEKT_STORAGE_ACCOUNT_NAME: 'zektplatform',
      AZURE_CLIENT_ID: '6f1e3a52-1111-4222-8333-944455556666',
      GITHUB_API_URL: 'http://127.0.0.1:9999/',
    });
    expect(config.storage).to.deep.equal({
      kind: 'identity',
      accountName: 'zektplatform',
      endpointSuffix: 'core.windows.net',
      managedIdentityClientId: '6f1e3a52-1111-4222-8333-944455556666',
    });
    expect(config.github.apiUrl).to.equal('http://127.0.0.1:9999');
  });

  it('names every missing or bad setting in one error', () => {
    let error: unknown;
    try {
      loadConfig({ ZEKT_PORT: 'eighty', GITHUB_API_URL: 'not a url', ZEKT_STORAGE_ACCOUNT_NAME: 'Bad_Name' });
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).to.include('ZEKT_PORT');
    expect(message).to.include('GITHUB_API_URL');
    expect(message).to.include('ZEKT_STORAGE_ACCOUNT_NAME');
    expect((error as Error).cause).to.exist;
  });

  it('requires one way to reach storage', () => {
    expect(() => loadConfig({})).to.throw(ConfigError, /ZEKT_STORAGE_CONNECTION_STRING/);
  });

  it('documents every setting in the README and .env.example', async () => {
    const [readme, example] = await Promise.all([readFile('README.md', 'utf8'), readFile('.env.example', 'utf8')]);
    for (const setting of settings) {
      expect(readme, `README lacks ${setting.name}`).to.include(`\`${setting.name}\``);
      expect(example, `.env.example lacks ${setting.name}`).to.match(new RegExp(`^#? ?${setting.name}=`, 'm'));
    }
  });
});
