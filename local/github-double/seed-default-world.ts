/**
 * The world `npm start` runs against: one user, the owner of one organisation where they installed
 * the App on two repositories — a provider whose CI runs produce events, and a consumer that
 * subscribes to them. Enough to sign in, bind the installation and watch an event flow; the control
 * API (`controlUrl`) adds the rest.
 */
import type { GitHubDouble } from './start-github-double.ts';
import type { Installation, User } from './state.ts';

export const defaultWorld = {
  user: 'octocat',
  organization: 'zekt-demo',
  provider: 'provider',
  consumer: 'consumer',
} as const;

export function seedDefaultWorld(double: GitHubDouble): { user: User; installation: Installation } {
  const user = double.addUser({
    login: defaultWorld.user,
    name: 'The Octocat',
    email: 'octocat@example.com',
  });
  double.addOrganization({ login: defaultWorld.organization, admins: [user.login] });
  const installation = double.addInstallation({
    account: defaultWorld.organization,
    installer: user.login,
    repositories: [
      { name: defaultWorld.provider, files: { 'README.md': '# provider\n' } },
      {
        name: defaultWorld.consumer,
        files: {
          'README.md': '# consumer\n',
          '.github/zekt.yml': `# Events this repository receives as repository_dispatch.\nsubscriptions:\n  - provider: ${defaultWorld.organization}/${defaultWorld.provider}\n`,
        },
      },
    ],
  });
  double.signInAs(user.login);
  return { user, installation };
}
