// Broker client calls, whatever the language: each reader turns a call into a CallView (method name, arguments with
// their string values resolved) and this table says which queue, topic, channel or task it sends to or receives from.
// The client library is known from the file's imports; a method two imported libraries share (`publish` with both
// Redis and NATS) names nothing rather than a guess.
import type { BrokerSystem, CodeLanguage } from './code-facts';

/** An argument as far as the reader resolved it: a string, a list of strings, an object or keyword map, or unknown. */
export type Arg = string | string[] | { [key: string]: Arg } | undefined;

export interface CallView {
  lang: CodeLanguage;
  /** The called method or constructor as written (`Publish`, `basic_publish`, `SubscribeAsync`, `KafkaConsumer`). */
  method: string;
  /** Positional arguments; Go's leading `ctx` is already dropped. */
  args: Arg[];
  /** Keyword or named arguments (Python `queue="x"`, C# `routingKey: "x"`, Java annotation elements). */
  kw: Record<string, Arg>;
  /** `new X(...)` / a Python class call / an annotation, rather than a method call. */
  ctor?: boolean;
}

export type BrokerFamily = 'kafka' | 'rabbitmq' | 'redis' | 'nats' | 'celery' | 'bull';

export interface BrokerUse {
  system: BrokerSystem;
  name: string;
  role: 'produce' | 'consume';
}

const familyOfImport: [RegExp, BrokerFamily][] = [
  [/kafka|sarama/i, 'kafka'],
  [/amqp|pika|rabbit|bunny|kombu/i, 'rabbitmq'],
  [/redis/i, 'redis'],
  [/(?:^|[/.-])nats(?:$|[/.-])/i, 'nats'],
  [/^celery(?:$|\.)/, 'celery'],
  [/^bull(?:mq)?$/, 'bull'],
];

/** The broker client libraries a file imports. */
export function brokerFamilies(imports: readonly { module: string }[]): Set<BrokerFamily> {
  const out = new Set<BrokerFamily>();
  for (const { module } of imports) {
    for (const [re, family] of familyOfImport) if (re.test(module)) out.add(family);
  }
  return out;
}

const str = (a: Arg): string | undefined => (typeof a === 'string' ? a : undefined);
const strs = (a: Arg): string[] => (typeof a === 'string' ? [a] : Array.isArray(a) ? a : []);
const obj = (a: Arg): Record<string, Arg> | undefined =>
  a && typeof a === 'object' && !Array.isArray(a) ? a : undefined;

/** The one family of `candidates` the file imports; none or several: undefined (no guess). */
function only(families: Set<BrokerFamily>, ...candidates: BrokerFamily[]): BrokerFamily | undefined {
  const hits = candidates.filter((c) => families.has(c));
  return hits.length === 1 ? hits[0] : undefined;
}

/** RabbitMQ: the default exchange ("") routes by queue name; any other exchange is what both sides name. */
function rabbitTarget(exchange: string | undefined, key: string | undefined): string | undefined {
  if (exchange === '') return key;
  return exchange;
}

const normalized = (method: string) =>
  method
    .toLowerCase()
    .replace(/_/g, '')
    .replace(/async$/, '');

// Every method and constructor brokerUses knows, normalized: readers skip the others before resolving arguments.
const known = new Set([
  'kafkaconsumer',
  'aiokafkaconsumer',
  'queue',
  'worker',
  'kafkalistener',
  'rabbitlistener',
  'sendtask',
  'send',
  'sendandwait',
  'produce',
  'subscribe',
  'queuesubscribe',
  'publish',
  'publishwithcontext',
  'sendtoqueue',
  'basicpublish',
  'basicconsume',
  'consume',
  'consumepartition',
  'queuebind',
  'bindqueue',
  'convertandsend',
  'lpush',
  'rpush',
  'listleftpush',
  'listrightpush',
  'lpop',
  'rpop',
  'listleftpop',
  'listrightpop',
  'blpop',
  'brpop',
]);

/** Whether brokerUses may find something in a call of this method (cheap: no argument is looked at). */
export function mayBeBrokerCall(method: string): boolean {
  return known.has(normalized(method));
}

/** What one call sends to or receives from, if it is a broker call of a library the file imports. */
export function brokerUses(call: CallView, families: Set<BrokerFamily>): BrokerUse[] {
  const m = normalized(call.method);
  const { args, kw, lang } = call;
  const out: BrokerUse[] = [];
  const add = (system: BrokerSystem, role: BrokerUse['role'], names: (string | undefined)[]): BrokerUse[] => {
    for (const name of names) if (name) out.push({ system, name, role });
    return out;
  };
  if (call.ctor) {
    if (m === 'kafkaconsumer' || m === 'aiokafkaconsumer') return add('kafka', 'consume', args.flatMap(strs));
    if (m === 'queue' && families.has('bull')) return add('bull', 'produce', [str(args[0])]);
    if (m === 'worker' && families.has('bull')) return add('bull', 'consume', [str(args[0])]);
    if (m === 'kafkalistener') {
      return add('kafka', 'consume', [...strs(kw.topics), ...strs(kw.value), ...args.flatMap(strs)]);
    }
    if (m === 'rabbitlistener') {
      return add('rabbitmq', 'consume', [...strs(kw.queues), ...strs(kw.value), ...args.flatMap(strs)]);
    }
    return out;
  }
  switch (m) {
    case 'sendtask':
      return add('celery', 'produce', [str(args[0]) ?? str(kw.name)]);
    case 'send':
    case 'sendandwait': {
      if (!families.has('kafka')) return out;
      const o = obj(args[0]);
      return add('kafka', 'produce', o ? [str(o.topic)] : [str(args[0]) ?? str(kw.topic)]);
    }
    case 'produce':
      return families.has('kafka') ? add('kafka', 'produce', [str(args[0]) ?? str(kw.topic)]) : out;
    case 'subscribe': {
      const family = only(families, 'kafka', 'redis', 'nats');
      if (family === 'kafka') {
        const o = obj(args[0]);
        return add('kafka', 'consume', o ? [str(o.topic), ...strs(o.topics)] : [...strs(args[0]), ...strs(kw.topics)]);
      }
      if (family === 'redis') return add('redis-channel', 'consume', args.flatMap(strs));
      if (family === 'nats') return add('nats', 'consume', [str(args[0])]);
      return out;
    }
    case 'queuesubscribe':
      return families.has('nats') ? add('nats', 'consume', [str(args[0])]) : out;
    case 'publish': {
      // amqplib channel.publish(exchange, routingKey, content) / amqp091 ch.Publish(exchange, key, mandatory, ...)
      if (families.has('rabbitmq') && args.length >= 3 && typeof args[0] === 'string' && typeof args[1] === 'string') {
        if (!only(families, 'rabbitmq', 'redis', 'nats')) return out;
        return add('rabbitmq', 'produce', [rabbitTarget(str(args[0]), str(args[1]))]);
      }
      const family = only(families, 'redis', 'nats');
      if (family === 'redis') return add('redis-channel', 'produce', [str(args[0])]);
      if (family === 'nats') return add('nats', 'produce', [str(args[0])]);
      return out;
    }
    case 'publishwithcontext':
      return families.has('rabbitmq') ? add('rabbitmq', 'produce', [rabbitTarget(str(args[0]), str(args[1]))]) : out;
    case 'sendtoqueue':
      return families.has('rabbitmq') ? add('rabbitmq', 'produce', [str(args[0])]) : out;
    case 'basicpublish': {
      if (!families.has('rabbitmq')) return out;
      const exchange = str(kw.exchange) ?? str(args[0]);
      const key = str(kw.routing_key) ?? str(kw.routingKey) ?? str(args[1]);
      return add('rabbitmq', 'produce', [rabbitTarget(exchange, key)]);
    }
    case 'basicconsume':
      return families.has('rabbitmq') ? add('rabbitmq', 'consume', [str(kw.queue) ?? str(args[0])]) : out;
    case 'consume': {
      // amqplib channel.consume(queue, cb), amqp091 ch.Consume(queue, ...), sarama group.Consume(ctx, []string{...}, h)
      if (Array.isArray(args[0]) && families.has('kafka')) return add('kafka', 'consume', args[0]);
      return families.has('rabbitmq') && typeof args[0] === 'string' ? add('rabbitmq', 'consume', [args[0]]) : out;
    }
    case 'consumepartition':
      return families.has('kafka') ? add('kafka', 'consume', [str(args[0])]) : out;
    case 'queuebind':
    case 'bindqueue': {
      if (!families.has('rabbitmq')) return out;
      // Go QueueBind(queue, key, exchange); amqplib bindQueue(queue, exchange, key); pika queue_bind(queue, exchange)
      const exchange = lang === 'go' ? str(args[2]) : (str(kw.exchange) ?? str(args[1]));
      return add('rabbitmq', 'consume', [exchange]);
    }
    case 'convertandsend': {
      if (!families.has('rabbitmq')) return out;
      return add('rabbitmq', 'produce', [args.length >= 3 ? rabbitTarget(str(args[0]), str(args[1])) : str(args[0])]);
    }
    case 'lpush':
    case 'rpush':
    case 'listleftpush':
    case 'listrightpush':
      return families.has('redis') ? add('redis-list', 'produce', [str(args[0])]) : out;
    case 'lpop':
    case 'rpop':
    case 'listleftpop':
    case 'listrightpop':
      return families.has('redis') ? add('redis-list', 'consume', [str(args[0])]) : out;
    case 'blpop':
    case 'brpop':
      return families.has('redis') ? add('redis-list', 'consume', args.flatMap(strs)) : out;
    default:
      return out;
  }
}
