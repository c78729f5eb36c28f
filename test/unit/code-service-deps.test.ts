// What the code readers find about other services: env reads through wrappers the file defines, gRPC services served
// and called through generated code, addresses handed to clients, and queue / topic names sent to or received from.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { allCodeLanguages, initCodeReaders, readCode, type CodeFacts } from '../../server/src/engine/code';

const lines = (...l: string[]): string => l.join('\n');
const env = (f: CodeFacts) => f.envReads.map((r) => [r.name, r.line, r.defaultValue, r.via]);
const grpc = (f: CodeFacts) => f.grpc.map((g) => [g.service, g.role, g.line]);
const topics = (f: CodeFacts) => f.topics.map((t) => [t.system, t.name, t.role, t.line]);
const dials = (f: CodeFacts) => f.dials.map((d) => [d.envVars, d.line]);

before(async () => {
  await initCodeReaders(allCodeLanguages);
});

describe('service dependencies in Go', () => {
  it('reads env vars through wrappers, and follows them into dials and generated clients', () => {
    const facts = readCode(
      'go',
      lines(
        'package main',
        'import (',
        '\t"github.com/segmentio/kafka-go"',
        '\t"github.com/redis/go-redis/v9"',
        ')',
        'const ordersTopic = "orders"',
        'func mustMapEnv(target *string, envKey string) {',
        '\tv := os.Getenv(envKey)',
        '\tif v == "" { panic("unset") }',
        '\t*target = v',
        '}',
        'func getenvOr(key, fallback string) string {',
        '\tif v, ok := os.LookupEnv(key); ok { return v }',
        '\treturn fallback',
        '}',
        'func main() {',
        '\tmustMapEnv(&svc.cartSvcAddr, "CART_SERVICE_ADDR")',
        '\tconn, _ := grpc.NewClient(svc.cartSvcAddr, opts...)',
        '\tcart := pb.NewCartServiceClient(conn)',
        '\tpay := getenvOr("PAYMENT_SERVICE_ADDR", "payment:50051")',
        '\tsrv := grpc.NewServer()',
        '\tpb.RegisterCheckoutServiceServer(srv, svc)',
        '\thealthpb.RegisterHealthServer(srv, health.NewServer())',
        '\tw := &kafka.Writer{Topic: ordersTopic}',
        '\tr := kafka.NewReader(kafka.ReaderConfig{Topic: "payments"})',
        '\trdb.Publish(ctx, "user-signups", payload)',
        '\trdb.BRPop(ctx, 0, "jobs")',
        '\tredis.NewClusterClient(opts)',
        '\tmustMapEnv(&svc.name, "not an env name")',
        '}',
      ),
    );
    assert.deepEqual(env(facts), [
      ['CART_SERVICE_ADDR', 17, undefined, 'mustMapEnv'],
      ['PAYMENT_SERVICE_ADDR', 20, 'payment:50051', 'getenvOr'],
    ]);
    assert.deepEqual(dials(facts), [[['CART_SERVICE_ADDR'], 18]]);
    assert.deepEqual(grpc(facts), [
      ['CartService', 'client', 19],
      ['CheckoutService', 'server', 22],
      ['grpc.health.v1.Health', 'server', 23],
    ]);
    assert.deepEqual(topics(facts), [
      ['kafka', 'orders', 'produce', 24],
      ['kafka', 'payments', 'consume', 25],
      ['redis-channel', 'user-signups', 'produce', 26],
      ['redis-list', 'jobs', 'consume', 27],
    ]);
  });

  it("keeps a wrapper's own dial of its parameter out, and reads broker calls only with the client imported", () => {
    const facts = readCode(
      'go',
      lines(
        'package main',
        'func connect(ctx context.Context, addr string) *grpc.ClientConn {',
        '\tconn, _ := grpc.DialContext(ctx, addr)',
        '\treturn conn',
        '}',
        'func main() {',
        '\taddr := os.Getenv("LISTEN_ADDR")',
        '\tconnect(ctx, os.Getenv("USERS_SERVICE_ADDR"))',
        '\tbus.Publish(ctx, "events", x)',
        '}',
      ),
    );
    assert.deepEqual(dials(facts), [[['USERS_SERVICE_ADDR'], 8]]);
    assert.deepEqual(topics(facts), []);
  });
});

describe('service dependencies in Python', () => {
  it('reads env wrappers, os.environ aliases, stubs, servicers, channel targets and Kafka topics', () => {
    const facts = readCode(
      'python',
      lines(
        'import os',
        'import grpc',
        'from kafka import KafkaConsumer',
        'config = os.environ',
        'def getenv_or(name, default):',
        '    return os.environ.get(name, default)',
        'class Settings:',
        '    def get(self, key):',
        '        return os.environ[key]',
        'settings = Settings()',
        'host = getenv_or("CATALOG_SERVICE_HOST", "catalog")',
        'port = config.get("CATALOG_SERVICE_PORT")',
        'channel = grpc.insecure_channel(f"{host}:{port}")',
        'stub = demo_pb2_grpc.ProductCatalogServiceStub(channel)',
        'demo_pb2_grpc.add_RecommendationServiceServicer_to_server(svc, server)',
        'health_pb2_grpc.add_HealthServicer_to_server(svc, server)',
        'users = settings.get("USERS_API_URL")',
        'requests.get(users + "/v1/users")',
        'consumer = KafkaConsumer("orders", bootstrap_servers=config["KAFKA_ADDR"])',
      ),
    );
    assert.deepEqual(env(facts), [
      ['CATALOG_SERVICE_HOST', 11, 'catalog', 'getenv_or'],
      ['CATALOG_SERVICE_PORT', 12, undefined, undefined],
      ['USERS_API_URL', 17, undefined, 'get'],
      ['KAFKA_ADDR', 19, undefined, undefined],
    ]);
    assert.deepEqual(dials(facts), [
      [['CATALOG_SERVICE_HOST', 'CATALOG_SERVICE_PORT'], 13],
      [['USERS_API_URL'], 18],
    ]);
    assert.deepEqual(grpc(facts), [
      ['ProductCatalogService', 'client', 14],
      ['RecommendationService', 'server', 15],
      ['grpc.health.v1.Health', 'server', 16],
    ]);
    assert.deepEqual(topics(facts), [['kafka', 'orders', 'consume', 19]]);
  });

  it('reads Celery tasks and send_task, RabbitMQ queues through pika and Redis channels and lists', () => {
    const facts = readCode(
      'python',
      lines(
        'import pika',
        'import redis',
        'from celery import Celery',
        'app = Celery("worker")',
        'AUDIT = "audit-events"',
        '@app.task',
        'def resize_image(path):',
        '    pass',
        '@app.task(name="billing.charge")',
        'def charge(order):',
        '    pass',
        'app.send_task("reports.build", args=[1])',
        'channel.basic_publish(exchange="", routing_key=AUDIT, body=b"x")',
        'channel.basic_consume(queue="emails", on_message_callback=cb)',
        'channel.basic_publish(exchange="events", routing_key="user.created", body=b"x")',
        'r.publish("user-signups", "1")',
        'r.lpush("jobs", "1")',
        'r.brpop(["jobs", "jobs-low"], timeout=5)',
      ),
    );
    assert.deepEqual(
      facts.topics.map((t) => [t.system, t.name, t.role, t.line, t.inModule ?? false]),
      [
        ['celery', 'resize_image', 'consume', 6, true],
        ['celery', 'billing.charge', 'consume', 9, false],
        ['celery', 'reports.build', 'produce', 12, false],
        ['rabbitmq', 'audit-events', 'produce', 13, false],
        ['rabbitmq', 'emails', 'consume', 14, false],
        ['rabbitmq', 'events', 'produce', 15, false],
        ['redis-channel', 'user-signups', 'produce', 16, false],
        ['redis-list', 'jobs', 'produce', 17, false],
        ['redis-list', 'jobs', 'consume', 18, false],
        ['redis-list', 'jobs-low', 'consume', 18, false],
      ],
    );
  });

  it('finds a gRPC listen port in add_insecure_port', () => {
    const facts = readCode(
      'python',
      lines(
        'port = os.environ.get("PORT", "8080")',
        'server.add_insecure_port("[::]:" + port)',
        'other.add_insecure_port(f"0.0.0.0:{port}")',
      ),
    );
    assert.deepEqual(
      facts.ports.map((p) => [p.port, p.line, p.envVar]),
      [[8080, 2, 'PORT']],
    );
  });
});

describe('service dependencies in JavaScript and TypeScript', () => {
  it('reads process.env[name] wrappers and constants, grpc-js servers and clients, axios base URLs', () => {
    const facts = readCode(
      'javascript',
      lines(
        "const grpc = require('@grpc/grpc-js');",
        "const ADDR_VAR = 'SHIPPING_SERVICE_ADDR';",
        'function requiredEnv(name) {',
        '  const value = process.env[name];',
        '  if (!value) throw new Error(`${name} is not set`);',
        '  return value;',
        '}',
        'const env = (name, fallback) => process.env[name] ?? fallback;',
        "const CURRENCY = requiredEnv('CURRENCY_SERVICE_ADDR');",
        'const shipping = process.env[ADDR_VAR];',
        "const users = env('USERS_URL', 'http://localhost:4000');",
        'const currency = new shop.hipstershop.CurrencyService(CURRENCY, grpc.credentials.createInsecure());',
        'server.addService(shop.PaymentService.service, { charge });',
        'server.addService(health.Health.service, { check });',
        'const api = axios.create({ baseURL: users });',
        'server.bindAsync(`0.0.0.0:${process.env.PORT || 50051}`, creds, () => {});',
        'axios.get(`${shipping}/rates`);',
      ),
    );
    assert.deepEqual(
      env(facts).filter(([name]) => name !== 'PORT'),
      [
        ['CURRENCY_SERVICE_ADDR', 9, undefined, 'requiredEnv'],
        ['SHIPPING_SERVICE_ADDR', 10, undefined, undefined],
        ['USERS_URL', 11, 'http://localhost:4000', 'env'],
      ],
    );
    assert.deepEqual(grpc(facts), [
      ['CurrencyService', 'client', 12],
      ['PaymentService', 'server', 13],
      ['grpc.health.v1.Health', 'server', 14],
    ]);
    assert.deepEqual(dials(facts), [
      [['CURRENCY_SERVICE_ADDR'], 12],
      [['USERS_URL'], 15],
      [['SHIPPING_SERVICE_ADDR'], 17],
    ]);
    assert.deepEqual(
      facts.ports.map((p) => [p.port, p.line, p.envVar]),
      [[50051, 16, 'PORT']],
    );
  });

  it('reads kafkajs, amqplib and BullMQ queue names, and no topic from an HTTP reply', () => {
    const facts = readCode(
      'typescript',
      lines(
        "import { Kafka } from 'kafkajs';",
        "import amqp from 'amqplib';",
        "import { Queue, Worker } from 'bullmq';",
        "const TOPIC = 'order-placed';",
        'await producer.send({ topic: TOPIC, messages: [] });',
        "await consumer.subscribe({ topics: ['payments', 'refunds'] });",
        "channel.sendToQueue('emails', Buffer.from('x'));",
        "channel.consume('audit', onMessage);",
        "const thumbnails = new Queue('thumbnails');",
        "new Worker('emails-bull', async (job) => job.data);",
        "app.get('/', (req, res) => res.send('ok'));",
      ),
    );
    assert.deepEqual(topics(facts), [
      ['kafka', 'order-placed', 'produce', 5],
      ['kafka', 'payments', 'consume', 6],
      ['kafka', 'refunds', 'consume', 6],
      ['rabbitmq', 'emails', 'produce', 7],
      ['rabbitmq', 'audit', 'consume', 8],
      ['bull', 'thumbnails', 'produce', 9],
      ['bull', 'emails-bull', 'consume', 10],
    ]);
  });
});

describe('service dependencies in C# and Java', () => {
  it('C#: wrappers, Configuration["X"], MapGrpcService, ...Base classes, generated clients on a channel', () => {
    const facts = readCode(
      'csharp',
      lines(
        'using Confluent.Kafka;',
        'static string Env(string name) => Environment.GetEnvironmentVariable(name) ?? throw new Exception(name);',
        'var catalog = Env("CATALOG_SERVICE_ADDR");',
        'var redis = Configuration["REDIS_ADDR"];',
        'using var channel = GrpcChannel.ForAddress(catalog);',
        'var client = new ProductCatalogService.ProductCatalogServiceClient(channel);',
        'app.MapGrpcService<CartService>();',
        'app.MapGrpcService<HealthCheckService>();',
        'class CartServiceImpl : Hipstershop.CartService.CartServiceBase { }',
        'var http = new HttpClient(handler);',
        'await producer.ProduceAsync("orders", message);',
        'consumer.Subscribe("payments");',
      ),
    );
    assert.deepEqual(env(facts), [
      ['CATALOG_SERVICE_ADDR', 3, undefined, 'Env'],
      ['REDIS_ADDR', 4, undefined, undefined],
    ]);
    assert.deepEqual(grpc(facts), [
      ['ProductCatalogService', 'client', 6],
      ['CartService', 'server', 7],
      ['grpc.health.v1.Health', 'server', 8],
      ['CartService', 'server', 9],
    ]);
    assert.deepEqual(dials(facts), [[['CATALOG_SERVICE_ADDR'], 6]]);
    assert.deepEqual(topics(facts), [
      ['kafka', 'orders', 'produce', 11],
      ['kafka', 'payments', 'consume', 12],
    ]);
  });

  it('Java: wrappers, ImplBase servers, stubs, the health service, channel targets, Spring listeners', () => {
    const facts = readCode(
      'java',
      lines(
        'import org.springframework.kafka.core.KafkaTemplate;',
        'class App {',
        '  static String env(String name, String fallback) {',
        '    String v = System.getenv(name);',
        '    return v == null ? fallback : v;',
        '  }',
        '  void start() {',
        '    String target = env("CURRENCY_SERVICE_ADDR", "currency:7000");',
        '    ManagedChannel ch = ManagedChannelBuilder.forTarget(target).usePlaintext().build();',
        '    CurrencyServiceGrpc.CurrencyServiceBlockingStub stub = CurrencyServiceGrpc.newBlockingStub(ch);',
        '    server = ServerBuilder.forPort(9555).addService(new AdServiceImpl()).addService(health.getHealthService());',
        '    kafkaTemplate.send("ads-served", ad);',
        '  }',
        '  static class AdServiceImpl extends hipstershop.AdServiceGrpc.AdServiceImplBase {}',
        '  @KafkaListener(topics = {"orders", "refunds"}, groupId = "ads")',
        '  void onOrder(String message) {}',
        '}',
      ),
    );
    assert.deepEqual(env(facts), [['CURRENCY_SERVICE_ADDR', 8, 'currency:7000', 'env']]);
    assert.deepEqual(dials(facts), [[['CURRENCY_SERVICE_ADDR'], 9]]);
    assert.deepEqual(grpc(facts), [
      ['CurrencyService', 'client', 10],
      ['grpc.health.v1.Health', 'server', 11],
      ['AdService', 'server', 14],
    ]);
    assert.deepEqual(
      facts.ports.map((p) => [p.port, p.line]),
      [[9555, 11]],
    );
    assert.deepEqual(topics(facts), [
      ['kafka', 'ads-served', 'produce', 12],
      ['kafka', 'orders', 'consume', 15],
      ['kafka', 'refunds', 'consume', 15],
    ]);
  });
});

describe('service dependencies in Ruby, Rust and PHP', () => {
  it('Ruby: an ENV.fetch wrapper, grpc stubs and services, the health checker', () => {
    const facts = readCode(
      'ruby',
      lines(
        'def env(name, default = nil)',
        '  ENV.fetch(name, default)',
        'end',
        'addr = env("CART_SERVICE_ADDR", "cart:7070")',
        'stub = Demo::CartService::Stub.new(addr, :this_channel_is_insecure)',
        'class CheckoutServer < Demo::CheckoutService::Service',
        'end',
        'server.handle(Grpc::Health::Checker.new)',
        'env(some_name)',
      ),
    );
    assert.deepEqual(env(facts), [['CART_SERVICE_ADDR', 4, 'cart:7070', 'env']]);
    assert.deepEqual(grpc(facts), [
      ['CartService', 'client', 5],
      ['CheckoutService', 'server', 6],
      ['grpc.health.v1.Health', 'server', 8],
    ]);
  });

  it('Rust: an env::var wrapper, tonic clients and servers, tonic-health; actix HttpServer is no gRPC server', () => {
    const facts = readCode(
      'rust',
      lines(
        'use tonic::transport::Server;',
        'fn env_or(key: &str, default: &str) -> String {',
        '    std::env::var(key).unwrap_or_else(|_| default.to_string())',
        '}',
        'async fn run() {',
        '    let addr = env_or("CART_SERVICE_ADDR", "http://cart:7070");',
        '    let client = CartServiceClient::connect(addr).await?;',
        '    let (reporter, health) = tonic_health::server::health_reporter();',
        '    Server::builder().add_service(CheckoutServiceServer::new(svc)).serve(a).await?;',
        '}',
      ),
    );
    assert.deepEqual(env(facts), [['CART_SERVICE_ADDR', 6, 'http://cart:7070', 'env_or']]);
    assert.deepEqual(grpc(facts), [
      ['CartService', 'client', 7],
      ['grpc.health.v1.Health', 'server', 8],
      ['CheckoutService', 'server', 9],
    ]);
    const actix = readCode('rust', 'fn main() { HttpServer::new(|| App::new()).bind(("0.0.0.0", 8080)); }');
    assert.deepEqual(grpc(actix), []);
  });

  it('PHP: a getenv wrapper and a generated gRPC client', () => {
    const facts = readCode(
      'php',
      lines(
        '<?php',
        'function env_or($name, $default = null) {',
        '  $v = getenv($name);',
        '  return $v === false ? $default : $v;',
        '}',
        '$addr = env_or("CART_SERVICE_ADDR", "cart:7070");',
        '$client = new \\Hipstershop\\CartServiceClient($addr, ["credentials" => $insecureCredentials]);',
        '$http = new GuzzleHttp\\Client(["base_uri" => $addr]);',
      ),
    );
    assert.deepEqual(env(facts), [['CART_SERVICE_ADDR', 6, 'cart:7070', 'env_or']]);
    assert.deepEqual(grpc(facts), [['CartService', 'client', 7]]);
  });
});
