import {
  ROOT_CONTEXT,
  SpanStatusCode,
  createNoopMeter,
  defaultTextMapGetter,
  defaultTextMapSetter,
  trace,
  type Attributes,
  type Context,
  type Meter,
  type MeterProvider,
  type Span,
  type Tracer as OtelTracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
} from '@opentelemetry/sdk-trace';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type {
  AgentSpan,
  RunSpanStart,
  SpanOutcome,
  StepSpanStart,
  TraceSpan,
  Tracer,
} from '@/lib/engine/tracing';
import type { AgentTurn } from '@/lib/engine/trace-store';
import { MAX_ATTRIBUTE_LENGTH, type SamplerConfig, type TelemetryConfig } from './config';
import * as sc from './semconv';

// The engine's Tracer on the OpenTelemetry SDK: a TracerProvider of its own (never the global
// one, so an app embedding Trellis keeps its own), a BatchSpanProcessor with a bounded queue and
// the OTLP/HTTP (JSON) exporter. Spans end synchronously into the queue; export happens on the
// processor's timer, so a slow or dead collector costs a run nothing but dropped spans.

export interface TelemetryStats {
  enabled: boolean;
  /** Spans the collector accepted. */
  exported: number;
  /** Spans dropped because the queue was full. */
  dropped: number;
  /** Spans whose export failed (collector down, refused, timed out). */
  failed: number;
}

export interface Telemetry {
  tracer: Tracer;
  captureContent: boolean;
  stats(): TelemetryStats;
  /** Export everything queued now (tests, a CLI about to exit). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

// The BatchSpanProcessor reports what happened to each span on this (experimental, but public)
// self-observability counter; reading it is how drops are counted without reaching into its queue.
const PROCESSED_METRIC = 'otel.sdk.processor.span.processed';

function countingMeterProvider(stats: TelemetryStats): MeterProvider {
  const noop = createNoopMeter();
  const meter: Meter = Object.assign(Object.create(noop) as Meter, {
    createCounter: ((name: string, options?: object) => {
      if (name !== PROCESSED_METRIC) return noop.createCounter(name, options);
      return {
        add(n: number, attrs?: Attributes) {
          const err = attrs?.[sc.ATTR_ERROR_TYPE];
          if (err === undefined) stats.exported += n;
          else if (err === 'queue_full') stats.dropped += n;
          else stats.failed += n;
        },
      };
    }) as Meter['createCounter'],
  });
  return { getMeter: () => meter };
}

function samplerOf(c: SamplerConfig): Sampler {
  const simple = (kind: 'always_on' | 'always_off' | 'traceidratio', ratio: number): Sampler =>
    kind === 'always_on'
      ? new AlwaysOnSampler()
      : kind === 'always_off'
        ? new AlwaysOffSampler()
        : new TraceIdRatioBasedSampler(ratio);
  if (c.kind === 'parentbased') return new ParentBasedSampler({ root: simple(c.root, c.ratio) });
  return simple(c.kind, c.kind === 'traceidratio' ? c.ratio : 1);
}

const propagator = new W3CTraceContextPropagator();

function contextFrom(traceparent: string | null): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagator.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter);
}

function traceparentOf(span: Span): string {
  const carrier: Record<string, string> = {};
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
  return carrier.traceparent ?? '';
}

const clip = (s: string) => (s.length > MAX_ATTRIBUTE_LENGTH ? `${s.slice(0, MAX_ATTRIBUTE_LENGTH)}…` : s);
const asJson = (v: unknown) => clip(typeof v === 'string' ? v : JSON.stringify(v ?? null));

function finish(span: Span, o: SpanOutcome, statusAttr: string) {
  const attrs: Attributes = { [statusAttr]: o.status };
  if (o.handle) attrs[sc.ATTR_STEP_HANDLE] = o.handle;
  if (o.mode) attrs[sc.ATTR_STEP_MODE] = o.mode;
  if (o.fallbackReason) attrs[sc.ATTR_STEP_FALLBACK_REASON] = o.fallbackReason;
  if (o.error && o.status !== 'cancelled') {
    attrs[sc.ATTR_ERROR_TYPE] = o.error.code;
    span.setStatus({ code: SpanStatusCode.ERROR, message: clip(o.error.message) });
  } else if (o.status === 'failed') {
    attrs[sc.ATTR_ERROR_TYPE] = 'internal_error';
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.setAttributes(attrs);
  span.end();
}

type Msg = {
  role?: string;
  content?: unknown;
  tool_calls?: { id?: string; function?: { name?: string; arguments?: string } }[];
  tool_call_id?: string;
};

/** OpenAI chat messages in the GenAI conventions' message shape (role + typed parts). */
function genAiMessages(messages: Msg[] | undefined, finishReason?: string) {
  return (messages ?? []).map((m) => {
    const parts: Record<string, unknown>[] = [];
    if (m.role === 'tool')
      parts.push({ type: 'tool_call_response', id: m.tool_call_id, response: m.content });
    else if (m.content !== undefined && m.content !== null) parts.push({ type: 'text', content: m.content });
    for (const c of m.tool_calls ?? [])
      parts.push({ type: 'tool_call', id: c.id, name: c.function?.name, arguments: c.function?.arguments });
    return { role: m.role, parts, ...(finishReason ? { finish_reason: finishReason } : {}) };
  });
}

class OtelAgentSpan implements AgentSpan {
  private chat: Span | null = null;
  private readonly tools = new Map<string, Span>();
  private readonly ctx: Context;

  constructor(
    private readonly t: OtelTracing,
    private readonly span: Span,
  ) {
    this.ctx = trace.setSpan(ROOT_CONTEXT, span);
  }

  turn(turn: AgentTurn) {
    const p = (turn.payload ?? {}) as Record<string, unknown>;
    switch (turn.kind) {
      case 'request': {
        this.endChat('superseded');
        const model = typeof p.model === 'string' ? p.model : 'unknown';
        this.chat = this.t.otel.startSpan(
          `${sc.OP_CHAT} ${model}`,
          {
            attributes: {
              [sc.ATTR_GEN_AI_OPERATION_NAME]: sc.OP_CHAT,
              [sc.ATTR_GEN_AI_PROVIDER_NAME]: sc.PROVIDER_OPENAI,
              [sc.ATTR_GEN_AI_REQUEST_MODEL]: model,
              ...(this.t.captureContent
                ? { [sc.ATTR_GEN_AI_INPUT_MESSAGES]: asJson(genAiMessages(p.messages as Msg[])) }
                : {}),
            },
          },
          this.ctx,
        );
        return;
      }
      case 'response': {
        const chat = this.chat;
        if (!chat) return;
        this.chat = null;
        const usage = (p.usage ?? {}) as { inputTokens?: number; outputTokens?: number };
        const finishReason = typeof p.finishReason === 'string' ? p.finishReason : undefined;
        chat.setAttributes({
          ...(typeof p.model === 'string' && p.model ? { [sc.ATTR_GEN_AI_RESPONSE_MODEL]: p.model } : {}),
          ...(typeof usage.inputTokens === 'number'
            ? { [sc.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: usage.inputTokens }
            : {}),
          ...(typeof usage.outputTokens === 'number'
            ? { [sc.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: usage.outputTokens }
            : {}),
          ...(finishReason ? { [sc.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: [finishReason] } : {}),
          ...(this.t.captureContent && p.message
            ? { [sc.ATTR_GEN_AI_OUTPUT_MESSAGES]: asJson(genAiMessages([p.message as Msg], finishReason)) }
            : {}),
        });
        chat.end();
        return;
      }
      case 'tool_call': {
        const id = String(p.id ?? '');
        const name = String(p.name ?? 'unknown');
        this.tools.set(
          id,
          this.t.otel.startSpan(
            `${sc.OP_EXECUTE_TOOL} ${name}`,
            {
              attributes: {
                [sc.ATTR_GEN_AI_OPERATION_NAME]: sc.OP_EXECUTE_TOOL,
                [sc.ATTR_GEN_AI_TOOL_NAME]: name,
                [sc.ATTR_GEN_AI_TOOL_CALL_ID]: id,
                [sc.ATTR_GEN_AI_TOOL_TYPE]: 'function',
                ...(this.t.captureContent
                  ? { [sc.ATTR_GEN_AI_TOOL_CALL_ARGUMENTS]: asJson(p.arguments) }
                  : {}),
              },
            },
            this.ctx,
          ),
        );
        return;
      }
      case 'tool_result':
      case 'validation_error': {
        const span = this.tools.get(String(p.id ?? ''));
        if (!span) return;
        this.tools.delete(String(p.id));
        const error = p.error as { code?: string } | string | undefined;
        if (turn.kind === 'validation_error' || error !== undefined) {
          const type =
            turn.kind === 'validation_error'
              ? 'invalid_arguments'
              : typeof error === 'object' && error?.code
                ? error.code
                : 'tool_error';
          span.setAttribute(sc.ATTR_ERROR_TYPE, type);
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        if (this.t.captureContent && 'result' in p)
          span.setAttribute(sc.ATTR_GEN_AI_TOOL_CALL_RESULT, asJson(p.result));
        span.end();
        return;
      }
      case 'note': {
        // A model call that threw ends in a fallback note, not a response.
        if (typeof p.fallback === 'string') this.endChat(p.fallback);
        return;
      }
    }
  }

  private endChat(errorType: string) {
    if (!this.chat) return;
    this.chat.setAttribute(sc.ATTR_ERROR_TYPE, errorType);
    this.chat.setStatus({ code: SpanStatusCode.ERROR });
    this.chat.end();
    this.chat = null;
  }

  evaluation(ev: { name: string; score: number; label: string; explanation?: string }) {
    this.span.addEvent(sc.EVENT_GEN_AI_EVALUATION_RESULT, {
      [sc.ATTR_GEN_AI_EVALUATION_NAME]: ev.name,
      [sc.ATTR_GEN_AI_EVALUATION_SCORE_VALUE]: ev.score,
      [sc.ATTR_GEN_AI_EVALUATION_SCORE_LABEL]: ev.label,
      ...(ev.explanation ? { [sc.ATTR_GEN_AI_EVALUATION_EXPLANATION]: clip(ev.explanation) } : {}),
    });
  }

  end(outcome: SpanOutcome) {
    this.endChat(outcome.status === 'cancelled' ? 'cancelled' : 'unfinished');
    for (const [, s] of this.tools) {
      s.setAttribute(sc.ATTR_ERROR_TYPE, 'unfinished');
      s.end();
    }
    this.tools.clear();
    finish(this.span, outcome, sc.ATTR_STEP_STATUS);
  }
}

class OtelSpan implements TraceSpan {
  private readonly ctx: Context;
  private tp: string | undefined;

  constructor(
    private readonly t: OtelTracing,
    private readonly span: Span,
    private readonly statusAttr: string,
  ) {
    this.ctx = trace.setSpan(ROOT_CONTEXT, span);
  }

  get traceparent(): string {
    this.tp ??= traceparentOf(this.span);
    return this.tp;
  }

  step(info: StepSpanStart): TraceSpan {
    const span = this.t.otel.startSpan(
      `step ${info.nodeId}`,
      {
        attributes: {
          [sc.ATTR_STEP_ID]: info.stepId,
          [sc.ATTR_NODE_ID]: info.nodeId,
          [sc.ATTR_NODE_TYPE]: info.nodeType,
          [sc.ATTR_STEP_MODE]: info.mode,
          [sc.ATTR_STEP_ATTEMPT]: info.attempt,
          ...(info.itemIndex === null ? {} : { [sc.ATTR_STEP_ITEM_INDEX]: info.itemIndex }),
          ...(info.parentNodeId === null ? {} : { [sc.ATTR_STEP_PARENT_NODE_ID]: info.parentNodeId }),
        },
      },
      this.ctx,
    );
    return new OtelSpan(this.t, span, sc.ATTR_STEP_STATUS);
  }

  backoff(info: { nodeId: string; attempt: number; delayMs: number }): TraceSpan {
    const span = this.t.otel.startSpan(
      `backoff ${info.nodeId}`,
      {
        attributes: {
          [sc.ATTR_NODE_ID]: info.nodeId,
          [sc.ATTR_STEP_ATTEMPT]: info.attempt,
          [sc.ATTR_BACKOFF_DELAY_MS]: info.delayMs,
        },
      },
      this.ctx,
    );
    return new OtelSpan(this.t, span, sc.ATTR_STEP_STATUS);
  }

  agent(info: { nodeId: string; nodeType: string; mode: string; shadow: boolean }): AgentSpan {
    const span = this.t.otel.startSpan(
      `${sc.OP_INVOKE_AGENT} ${info.nodeId}`,
      {
        attributes: {
          [sc.ATTR_GEN_AI_OPERATION_NAME]: sc.OP_INVOKE_AGENT,
          [sc.ATTR_GEN_AI_PROVIDER_NAME]: sc.PROVIDER_OPENAI,
          [sc.ATTR_GEN_AI_AGENT_NAME]: info.nodeId,
          [sc.ATTR_NODE_ID]: info.nodeId,
          [sc.ATTR_NODE_TYPE]: info.nodeType,
          [sc.ATTR_STEP_MODE]: info.mode,
        },
      },
      this.ctx,
    );
    return new OtelAgentSpan(this.t, span);
  }

  end(outcome: SpanOutcome) {
    finish(this.span, outcome, this.statusAttr);
  }
}

class OtelTracing implements Tracer {
  constructor(
    readonly otel: OtelTracer,
    readonly captureContent: boolean,
  ) {}

  run(info: RunSpanStart): TraceSpan {
    const span = this.otel.startSpan(
      `${sc.OP_INVOKE_WORKFLOW} ${info.workflowName}`,
      {
        attributes: {
          [sc.ATTR_GEN_AI_OPERATION_NAME]: sc.OP_INVOKE_WORKFLOW,
          [sc.ATTR_GEN_AI_WORKFLOW_NAME]: info.workflowName,
          [sc.ATTR_RUN_ID]: info.runId,
          [sc.ATTR_RUN_TRIGGER]: info.trigger,
          [sc.ATTR_RUN_RESUMED]: info.resumed,
          ...(info.workflowId ? { [sc.ATTR_WORKFLOW_ID]: info.workflowId } : {}),
          ...(info.version === null ? {} : { [sc.ATTR_WORKFLOW_VERSION]: info.version }),
        },
      },
      contextFrom(info.parent),
    );
    return new OtelSpan(this, span, sc.ATTR_RUN_STATUS);
  }
}

export function createTelemetry(config: TelemetryConfig, opts: { serviceVersion?: string } = {}): Telemetry {
  const stats: TelemetryStats = { enabled: true, exported: 0, dropped: 0, failed: 0 };
  const exporter = new OTLPTraceExporter({
    url: config.url,
    headers: config.headers,
    timeoutMillis: config.exportTimeoutMillis,
  });
  const processor = new BatchSpanProcessor({
    exporter,
    maxQueueSize: config.maxQueueSize,
    maxExportBatchSize: Math.min(config.maxExportBatchSize, config.maxQueueSize),
    scheduledDelayMillis: config.scheduledDelayMillis,
    exportTimeoutMillis: config.exportTimeoutMillis,
    selfObsMeterProvider: countingMeterProvider(stats),
  });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      ...config.resourceAttributes,
      [sc.ATTR_SERVICE_NAME]: config.serviceName,
      ...(opts.serviceVersion ? { [sc.ATTR_SERVICE_VERSION]: opts.serviceVersion } : {}),
    }),
    sampler: samplerOf(config.sampler),
    spanLimits: { attributeValueLengthLimit: MAX_ATTRIBUTE_LENGTH + 1 },
    spanProcessors: [processor],
  });
  const tracer = new OtelTracing(provider.getTracer('trellis', opts.serviceVersion), config.captureContent);
  return {
    tracer,
    captureContent: config.captureContent,
    stats: () => ({ ...stats }),
    // A failed export is already counted; flushing must not throw at a caller that is exiting.
    flush: () => provider.forceFlush().catch(() => {}),
    shutdown: () => provider.shutdown().catch(() => {}),
  };
}
