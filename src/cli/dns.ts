// `fedctl dns show|check`: the CoreDNS section fedctl wants in each member, and where the live one differs.
import type { Command } from 'commander';
import { type CliContext, globalOptions, hostClients, UserError } from './options.ts';
import { formatOutput } from './output.ts';

export function register(program: Command, ctx: CliContext): void {
  const dns = program.command('dns').description(
    `Cross-cluster DNS. fedctl owns one marked section of each member's Corefile (kube-system/coredns):
forward zones to the clusters serving ServiceDNSRecords, and the federation zones built from
DNSEndpoints. These commands compute that section exactly as the controller does.`,
  );
  dns
    .command('show')
    .description("Print the section fedctl wants in each member's Corefile")
    .option('--cluster <name>', 'only this member')
    .addHelpText('after', '\nExamples:\n  fedctl dns show\n  fedctl dns show --cluster cluster1 -o yaml')
    .action(async (opts: { cluster?: string }, cmd: Command) => {
      const g = globalOptions(cmd);
      const { clients } = hostClients(ctx, g);
      const { corefileSections } = await import('../dns/show.ts');
      const { sections, problems } = await corefileSections(clients, g.kubefedNamespace, opts.cluster);
      if (g.output !== 'table') {
        ctx.stdout(
          formatOutput(g.output, { sections, problems: Object.fromEntries(problems) }, () => ({
            headers: [],
            rows: [],
          })),
        );
        return;
      }
      for (const s of sections) {
        ctx.stdout(
          `# cluster ${s.cluster}${s.error ? ` (cannot render: ${s.error})` : ''}\n${s.wanted || '# (no section: nothing to forward or serve)\n'}\n`,
        );
      }
      for (const [record, list] of problems)
        ctx.stderr(
          `ServiceDNSRecord ${record}: ${list.map((p) => `${p.reason}: ${p.message}`).join('; ')}\n`,
        );
    });
  dns
    .command('check')
    .description('Compare each live Corefile section with what fedctl wants; exit 1 where they differ')
    .option('--cluster <name>', 'only this member')
    .addHelpText('after', '\nExample:\n  fedctl dns check --cluster cluster0')
    .action(async (opts: { cluster?: string }, cmd: Command) => {
      const g = globalOptions(cmd);
      const { clients } = hostClients(ctx, g);
      const { corefileSections } = await import('../dns/show.ts');
      const { sections } = await corefileSections(clients, g.kubefedNamespace, opts.cluster);
      ctx.stdout(
        formatOutput(g.output, sections, () => ({
          headers: ['CLUSTER', 'SECTION', 'DETAIL'],
          rows: sections.map((s) => [
            s.cluster,
            s.error ? 'error' : s.inSync ? 'in sync' : 'differs',
            s.error ??
              (s.inSync
                ? ''
                : `live ${s.live.split('\n').length - 1} lines, wanted ${s.wanted.split('\n').length - 1} lines`),
          ]),
        })),
      );
      for (const s of sections.filter((x) => !x.inSync && !x.error)) {
        ctx.stderr(
          `--- ${s.cluster}: live\n${s.live || '(none)\n'}+++ ${s.cluster}: wanted\n${s.wanted || '(none)\n'}`,
        );
      }
      const bad = sections.filter((s) => !s.inSync).map((s) => s.cluster);
      if (bad.length > 0)
        throw new UserError(
          `Corefile section differs in ${bad.join(', ')} (the controller corrects it within 30 s while running)`,
        );
    });
}
