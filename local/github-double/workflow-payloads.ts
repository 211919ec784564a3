/**
 * `workflow_run` and `workflow_job` payloads (https://docs.github.com/webhooks/webhook-events-and-payloads#workflow_run),
 * made from GitHub's newest examples with the run's names, ids, attempt, branch, commit and
 * outcome replaced from the input. The control API's runs build them for each step of a run.
 */
import { copyJsonExcept, isJsonObject, type JsonObject } from './json.ts';
import { exampleFor, nodeIdFor, sha1, stableId, type PayloadContext, type PayloadHelpers } from './example-payloads.ts';
import type { WebhookEvent, WorkflowJobInput, WorkflowRunInput } from './payload-builders.ts';

export function createWorkflowPayloads(context: PayloadContext, helpers: PayloadHelpers) {
  const { state, urls } = context;
  const { timestamp, rebaseAndRewrite, user, repositoryFrom, installationOf, senderFor, withOrganization } = helpers;

  function workflowRun(input: WorkflowRunInput): WebhookEvent {
    const example = exampleFor('workflow_run', input.action === 'in_progress' ? 'requested' : input.action);
    const repository = state.repository(input.repository);
    const installation = installationOf(repository, input.installationId);
    const sender = senderFor(input.sender, repository.owner);
    const run = isJsonObject(example.workflow_run) ? example.workflow_run : {};
    const full = `${repository.owner.login}/${repository.name}`;
    const workflowPath = input.workflowPath ?? '.github/workflows/ci.yml';
    const workflowId = input.workflowId ?? stableId(`${full}:${workflowPath}`);
    const headBranch = input.headBranch ?? repository.defaultBranch;
    const headSha = input.headSha ?? sha1(`${full}:${input.runId}`);
    const status = input.action === 'requested' ? 'queued' : input.action;
    const at = timestamp();
    const attempt = input.runAttempt ?? 1;
    const runNeedle = `/runs/${String(run.id)}`;
    const workflowNeedle = `/workflows/${String(run.workflow_id)}`;
    const renamed = rebaseAndRewrite(run, { owner: repository.owner.login, full }, [runNeedle, workflowNeedle], (s) =>
      s.replaceAll(runNeedle, `/runs/${input.runId}`).replaceAll(workflowNeedle, `/workflows/${workflowId}`),
    ) as JsonObject;
    const workflowRun: JsonObject = {
      ...renamed,
      id: input.runId,
      node_id: nodeIdFor('WFR', input.runId),
      name: input.workflowName ?? 'CI',
      // The workflow's `run-name` when it has one (https://docs.github.com/actions/writing-workflows/workflow-syntax-for-github-actions#run-name).
      display_title: input.displayTitle ?? input.workflowName ?? 'CI',
      path: workflowPath,
      run_number: input.runNumber ?? 1,
      run_attempt: attempt,
      event: input.event ?? 'push',
      status,
      conclusion: input.action === 'completed' ? (input.conclusion ?? 'success') : null,
      workflow_id: workflowId,
      head_branch: headBranch,
      head_sha: headSha,
      head_commit: { ...(isJsonObject(renamed.head_commit) ? renamed.head_commit : {}), id: headSha, timestamp: at },
      actor: user(run.actor ?? run.triggering_actor ?? example.sender, senderFor(input.actor, sender)),
      triggering_actor: user(run.triggering_actor ?? run.actor ?? example.sender, sender),
      repository: repositoryFrom(run.repository, repository),
      head_repository: repositoryFrom(run.head_repository, repository),
      pull_requests: [],
      created_at: input.createdAt ?? at,
      updated_at: at,
      run_started_at: input.runStartedAt ?? at,
      previous_attempt_url: attempt > 1 ? `${urls.api}/repos/${full}/actions/runs/${input.runId}/attempts/${attempt - 1}` : null,
    };
    const exWorkflow = isJsonObject(example.workflow) ? example.workflow : {};
    const workflow: JsonObject = {
      ...(rebaseAndRewrite(exWorkflow, { owner: repository.owner.login, full }, [String(exWorkflow.id), '.github/workflows/'], (s) =>
        s.replaceAll(String(exWorkflow.id), String(workflowId)).replace(/\.github\/workflows\/[^/]+\.ya?ml/, workflowPath),
      ) as JsonObject),
      id: workflowId,
      node_id: nodeIdFor('W', workflowId),
      name: input.workflowName ?? 'CI',
      path: workflowPath,
    };
    const payload: JsonObject = {
      ...copyJsonExcept(example, ['workflow_run', 'workflow', 'repository', 'sender', 'installation']),
      action: input.action,
      workflow_run: workflowRun,
      workflow,
      repository: repositoryFrom(example.repository, repository),
      sender: user(example.sender, sender),
      installation: { id: installation.id, node_id: nodeIdFor('I', installation.id) },
    };
    withOrganization(payload, example, repository.owner);
    return { event: 'workflow_run', payload };
  }

  function workflowJob(input: WorkflowJobInput): WebhookEvent {
    const example = exampleFor('workflow_job', input.action);
    const repository = state.repository(input.repository);
    const installation = installationOf(repository, input.installationId);
    const sender = senderFor(input.sender, repository.owner);
    const job = isJsonObject(example.workflow_job) ? example.workflow_job : {};
    const full = `${repository.owner.login}/${repository.name}`;
    const headSha = input.headSha ?? sha1(`${full}:${input.runId}`);
    const at = timestamp();
    const runNeedle = `/runs/${String(job.run_id)}`;
    const jobNeedle = `/jobs/${String(job.id)}`;
    const renamed = rebaseAndRewrite(job, { owner: repository.owner.login, full }, [runNeedle, jobNeedle], (s) =>
      s.replaceAll(runNeedle, `/runs/${input.runId}`).replaceAll(jobNeedle, `/jobs/${input.jobId}`),
    ) as JsonObject;
    const completed = input.action === 'completed';
    const workflowJob: JsonObject = {
      ...renamed,
      id: input.jobId,
      run_id: input.runId,
      run_attempt: input.runAttempt ?? 1,
      node_id: nodeIdFor('CR', input.jobId),
      run_url: `${urls.api}/repos/${full}/actions/runs/${input.runId}`,
      url: `${urls.api}/repos/${full}/actions/jobs/${input.jobId}`,
      html_url: `${urls.web}/${full}/actions/runs/${input.runId}/job/${input.jobId}`,
      head_sha: headSha,
      head_branch: input.headBranch ?? repository.defaultBranch,
      status: input.action,
      conclusion: completed ? (input.conclusion ?? 'success') : null,
      name: input.jobName ?? 'build',
      workflow_name: input.workflowName ?? 'CI',
      created_at: at,
      started_at: at,
      completed_at: completed ? at : null,
    };
    const payload: JsonObject = {
      ...copyJsonExcept(example, ['workflow_job', 'repository', 'sender', 'installation']),
      action: input.action,
      workflow_job: workflowJob,
      repository: repositoryFrom(example.repository, repository),
      sender: user(example.sender, sender),
      installation: { id: installation.id, node_id: nodeIdFor('I', installation.id) },
    };
    if ('deployment' in payload) delete payload.deployment;
    withOrganization(payload, example, repository.owner);
    return { event: 'workflow_job', payload };
  }

  return { workflowRun, workflowJob };
}
