/**
 * Node arguments for the process that runs the platform's webhook intake, on Azure (the
 * `languageWorkers__node__arguments` app setting) and locally (`npm start`, the benchmark).
 *
 * Every delivery allocates its body, its text and its parsed JSON, which are garbage a few
 * milliseconds later, once the group-commit round is written. With V8's default young generation
 * a scavenge runs every ~30 ms at 2,500 deliveries/s and promotes the objects of rounds still in
 * flight, which then cost old-space collections. A 32 MiB semi-space lets them die young: about
 * 15 % less intake CPU per delivery in `npm run bench:ingress`, for ~64 MiB more memory at most.
 */
export const platformNodeArguments: readonly string[] = ['--max-semi-space-size=32'];
