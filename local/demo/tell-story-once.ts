/**
 * `npm start`'s first-start story, told once per state folder: the story runs on a fresh state
 * (no marker yet) and writes `<state dir>/demo-story.json` when it ends; a later start finds the
 * marker and says the story was told. A failed story leaves no marker, says at which step it
 * stopped, and the platform keeps serving.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runDemoStory, type DemoStoryResult } from './demo-story.ts';

export interface TellStoryOptions {
  readonly stateDir: string;
  readonly platformUrl: string;
  readonly doubleControlUrl: string;
  readonly say: (line: string) => void;
}

interface StoryMarker extends DemoStoryResult {
  readonly toldAt: string;
}

export async function tellStoryOnce(options: TellStoryOptions): Promise<void> {
  const marker = path.join(options.stateDir, 'demo-story.json');
  const told = await readFile(marker, 'utf8').then(
    (text) => JSON.parse(text) as StoryMarker,
    () => undefined,
  );
  if (told) {
    options.say(`The story was told on ${told.toldAt} (tenant ${told.tenantId}, event ${told.eventId}); start with a fresh state folder to see it again.`);
    return;
  }
  options.say('The story of one customer, from sign-in to the settled report (npm start -- --no-demo skips it):');
  try {
    const result = await runDemoStory({ platformUrl: options.platformUrl, doubleControlUrl: options.doubleControlUrl, say: options.say });
    await writeFile(marker, JSON.stringify({ ...result, toldAt: new Date().toISOString() } satisfies StoryMarker, null, 2));
    options.say(`The story is told. Zekt keeps serving: open ${options.platformUrl}/ and sign in as mona to see it in the console.`);
  } catch (err) {
    options.say(`The story stopped: ${(err as Error).message}. Zekt keeps serving.`);
  }
}
