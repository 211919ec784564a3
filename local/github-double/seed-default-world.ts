/**
 * The world `npm start` runs against: one user, a member of one organisation where the App is
 * installed on two repositories — a provider whose CI runs produce events, and a consumer that
 * subscribes to them. Enough to sign in, bind the installation and watch an event flow.
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
    organizations: [defaultWorld.organization],
  });
  const installation = double.addInstallation({
    account: defaultWorld.organization,
    repositories: [
      { name: defaultWorld.provider, files: { 'README.md': '# provider\n' } },
      {
        name: defaultWorld.consumer,
        files: {
          'README.md': '# consumer\n',
          '.github/zekt.yml': `# Events this repository receives as repository_dispatch.\nsubscribe:\n  - repository: ${defaultWorld.organization}/${defaultWorld.provider}\n    workflow: CI\n`,
        },
      },
    ],
  });
  double.signInAs(user.login);
  return { user, installation };
}
