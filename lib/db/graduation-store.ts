import type { Graduation } from '@/lib/promotion/graduate';
import {
  FINAL_GRADUATION_STATUSES,
  type GraduationPhase,
  type GraduationRecord,
  type GraduationRequest,
  type GraduationStatus,
  type GraduationStore,
} from '@/lib/promotion/graduation-store';
import type { Db } from './client';
import type { Prisma, PrismaClient } from './generated/client';

// GraduationStore on the Trellis database (Postgres or PGlite). Every transition is a guarded
// updateMany, so a proposal that ended stays ended whoever writes late.

type Row = Prisma.GraduationProposalGetPayload<object>;

function toRecord(r: Row): GraduationRecord {
  return {
    ...r,
    status: r.status as GraduationStatus,
    phase: r.phase as GraduationPhase,
    request: r.request as unknown as GraduationRequest,
    result: (r.result as unknown as Graduation | null) ?? null,
    error: (r.error as GraduationRecord['error']) ?? null,
  };
}

const json = (v: unknown): Prisma.InputJsonValue => (v ?? null) as Prisma.InputJsonValue;
const open = { notIn: [...FINAL_GRADUATION_STATUSES] };

export class PrismaGraduationStore implements GraduationStore {
  private readonly prisma: PrismaClient;
  constructor(db: Pick<Db, 'prisma'>) {
    this.prisma = db.prisma;
  }

  async create(g: { workflowId: string; nodeId: string; version: number; request: GraduationRequest }) {
    return toRecord(
      await this.prisma.graduationProposal.create({
        data: { ...g, status: 'queued', request: json(g.request) },
      }),
    );
  }

  async get(id: string) {
    const row = await this.prisma.graduationProposal.findUnique({ where: { id } });
    return row ? toRecord(row) : null;
  }

  async claim(id: string, total: number) {
    const r = await this.prisma.graduationProposal.updateMany({
      where: { id, status: 'queued', cancelRequested: false },
      data: { status: 'running', phase: 'model', total, startedAt: new Date() },
    });
    return r.count === 1;
  }

  async progress(id: string, p: { phase: GraduationPhase; done: number }) {
    await this.prisma.graduationProposal.updateMany({
      where: { id, status: 'running' },
      data: p,
    });
  }

  async finish(
    id: string,
    status: GraduationStatus,
    end: { result?: Graduation; error?: { code: string; message: string } },
  ) {
    const r = await this.prisma.graduationProposal.updateMany({
      where: { id, status: open },
      data: {
        status,
        phase: 'done',
        finishedAt: new Date(),
        ...(end.result ? { result: json(end.result) } : {}),
        ...(end.error ? { error: json(end.error) } : {}),
      },
    });
    return r.count === 1;
  }

  async requestCancel(id: string) {
    await this.prisma.graduationProposal.updateMany({
      where: { id, status: open },
      data: { cancelRequested: true },
    });
    // Nobody works on a queued proposal yet: it ends here.
    await this.prisma.graduationProposal.updateMany({
      where: { id, status: 'queued' },
      data: { status: 'cancelled', phase: 'done', finishedAt: new Date() },
    });
    return this.get(id);
  }

  async unfinished() {
    const rows = await this.prisma.graduationProposal.findMany({
      where: { status: { in: ['queued', 'running'] } },
      orderBy: { createdAt: 'asc' },
      select: { id: true, status: true },
    });
    return rows.map((r) => ({ id: r.id, status: r.status as GraduationStatus }));
  }
}
