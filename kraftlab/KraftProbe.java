// KraftProbe: the test and demo client of the real Kafka cluster, built on kafka-clients 3.3.2
// from the distribution's libs/ (compiled by kraftlab with javac, run inside the client network
// namespace). Output is line-oriented "key=value" or "TAG value" text for kraftlab to parse.
//
//   status        <bootstrap>
//       cluster.id=..., brokers=0,1,2, quorum.leader=N, quorum.epoch=N, quorum.hw=N,
//       quorum.voters=0,1,2, quorum.observers=3
//   create-topic  <bootstrap> <topic> <partitions> <replication> [config=value ...]
//   describe-topic <bootstrap> <topic>
//       partition=P leader=L replicas=a,b,c isr=a,b
//   produce       <bootstrap> <topic> <prefix> <count> <interval-ms>
//       acks=all, idempotent. count < 0: until standard input is closed. One line per outcome:
//       "ACK <value> <partition> <offset>" or "ERR <value> <exception>", then "DONE sent=.. acked=.. failed=.."
//   consume       <bootstrap> <topic> <timeout-ms>
//       reads every partition from the beginning up to its end offset (no consumer group), one
//       "MSG <value>" line each, then "END count=N"; exits 1 with "TIMEOUT" when not done in time.
//   brokers       <bootstrap>
//       the brokers as this listener advertises them: "broker=<id> host=<host> port=<port>"
//   create-acl    <bootstrap> <principal> <TOPIC|GROUP|CLUSTER> <resource-name> <OP>[,<OP>...]
//       ALLOW <principal> from any host the operations on the literal resource; "acl=..." each
//
// Options before the command: --client-config <file> loads client properties (security.protocol,
// ssl.*, sasl.*, or timeouts) into every client the command creates, after the probe's own
// settings, so the file wins. Any failure prints "FAILED <exception class>: <message>" for the
// exception and each of its causes on standard error and exits 1.
import java.io.FileInputStream;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.QuorumInfo;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public final class KraftProbe {
    private static final long ADMIN_TIMEOUT_S = 20;

    /** Client properties from --client-config, applied to every client after the probe's own. */
    private static final Properties CLIENT_CONFIG = new Properties();

    public static void main(String[] argv) throws Exception {
        String[] args = argv;
        while (args.length >= 2 && args[0].equals("--client-config")) {
            try (InputStream in = new FileInputStream(args[1])) {
                CLIENT_CONFIG.load(in);
            }
            args = Arrays.copyOfRange(args, 2, args.length);
        }
        if (args.length < 2) {
            System.err.println("usage: KraftProbe [--client-config <file>] "
                    + "status|create-topic|describe-topic|produce|consume|brokers|create-acl <bootstrap> ...");
            System.exit(2);
        }
        try {
            run(args);
        } catch (Exception e) {
            System.out.flush();
            for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
                System.err.println("FAILED " + t.getClass().getName() + ": " + t.getMessage());
            }
            System.err.flush();
            System.exit(1);
        }
        System.out.flush();
        System.exit(0);
    }

    private static void run(String[] args) throws Exception {
        String bootstrap = args[1];
        switch (args[0]) {
            case "status": status(bootstrap); break;
            case "create-topic": createTopic(bootstrap, args); break;
            case "describe-topic": describeTopic(bootstrap, args[2]); break;
            case "produce": produce(bootstrap, args[2], args[3], Long.parseLong(args[4]), Long.parseLong(args[5])); break;
            case "consume": consume(bootstrap, args[2], Long.parseLong(args[3])); break;
            case "brokers": brokers(bootstrap); break;
            case "create-acl": createAcl(bootstrap, args[2], args[3], args[4], args[5]); break;
            default:
                System.err.println("unknown command " + args[0]);
                System.exit(2);
        }
    }

    private static Properties withClientConfig(Properties p) {
        p.putAll(CLIENT_CONFIG);
        return p;
    }

    private static Admin admin(String bootstrap) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "15000");
        return Admin.create(withClientConfig(p));
    }

    private static String ids(List<Integer> ids) {
        return ids.stream().sorted().map(String::valueOf).collect(Collectors.joining(","));
    }

    private static void status(String bootstrap) throws Exception {
        try (Admin admin = admin(bootstrap)) {
            DescribeClusterResult cluster = admin.describeCluster();
            System.out.println("cluster.id=" + cluster.clusterId().get(ADMIN_TIMEOUT_S, TimeUnit.SECONDS));
            List<Integer> brokers = new ArrayList<>();
            for (Node n : cluster.nodes().get(ADMIN_TIMEOUT_S, TimeUnit.SECONDS)) {
                brokers.add(n.id());
            }
            System.out.println("brokers=" + ids(brokers));
            QuorumInfo quorum = admin.describeMetadataQuorum().quorumInfo().get(ADMIN_TIMEOUT_S, TimeUnit.SECONDS);
            System.out.println("quorum.leader=" + quorum.leaderId());
            System.out.println("quorum.epoch=" + quorum.leaderEpoch());
            System.out.println("quorum.hw=" + quorum.highWatermark());
            System.out.println("quorum.voters=" + ids(quorum.voters().stream()
                    .map(QuorumInfo.ReplicaState::replicaId).collect(Collectors.toList())));
            System.out.println("quorum.observers=" + ids(quorum.observers().stream()
                    .map(QuorumInfo.ReplicaState::replicaId).collect(Collectors.toList())));
        }
    }

    private static void brokers(String bootstrap) throws Exception {
        try (Admin admin = admin(bootstrap)) {
            for (Node n : admin.describeCluster().nodes().get(ADMIN_TIMEOUT_S, TimeUnit.SECONDS)) {
                // rack= only for a broker with broker.rack: other lines stay as they were
                System.out.println("broker=" + n.id() + " host=" + n.host() + " port=" + n.port()
                        + (n.hasRack() ? " rack=" + n.rack() : ""));
            }
        }
    }

    private static void createAcl(String bootstrap, String principal, String type, String name, String ops)
            throws Exception {
        ResourcePattern resource = new ResourcePattern(ResourceType.fromString(type), name, PatternType.LITERAL);
        List<AclBinding> bindings = new ArrayList<>();
        for (String op : ops.split(",")) {
            AclOperation operation = AclOperation.fromString(op);
            if (operation == AclOperation.UNKNOWN) {
                throw new IllegalArgumentException("unknown ACL operation " + op);
            }
            bindings.add(new AclBinding(resource,
                    new AccessControlEntry(principal, "*", operation, AclPermissionType.ALLOW)));
        }
        try (Admin admin = admin(bootstrap)) {
            admin.createAcls(bindings).all().get(ADMIN_TIMEOUT_S, TimeUnit.SECONDS);
            for (AclBinding b : bindings) {
                System.out.println("acl=" + b);
            }
        }
    }

    private static void createTopic(String bootstrap, String[] args) throws Exception {
        NewTopic topic = new NewTopic(args[2], Integer.parseInt(args[3]), Short.parseShort(args[4]));
        Map<String, String> configs = new HashMap<>();
        for (int i = 5; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            configs.put(kv[0], kv[1]);
        }
        topic.configs(configs);
        try (Admin admin = admin(bootstrap)) {
            admin.createTopics(Collections.singletonList(topic)).all().get(ADMIN_TIMEOUT_S, TimeUnit.SECONDS);
            System.out.println("created=" + args[2]);
        }
    }

    private static void describeTopic(String bootstrap, String name) throws Exception {
        try (Admin admin = admin(bootstrap)) {
            TopicDescription d = admin.describeTopics(Collections.singletonList(name))
                    .allTopicNames().get(ADMIN_TIMEOUT_S, TimeUnit.SECONDS).get(name);
            for (TopicPartitionInfo p : d.partitions()) {
                System.out.println("partition=" + p.partition()
                        + " leader=" + (p.leader() == null ? -1 : p.leader().id())
                        + " replicas=" + ids(p.replicas().stream().map(Node::id).collect(Collectors.toList()))
                        + " isr=" + ids(p.isr().stream().map(Node::id).collect(Collectors.toList())));
            }
        }
    }

    private static synchronized void emit(String line) {
        System.out.println(line);
        System.out.flush();
    }

    private static void produce(String bootstrap, String topic, String prefix, long count, long intervalMs)
            throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        AtomicBoolean stop = new AtomicBoolean(false);
        if (count < 0) {
            Thread reader = new Thread(() -> {
                try {
                    while (System.in.read() != -1) {
                        // drain until the caller closes standard input
                    }
                } catch (java.io.IOException e) {
                    // closed
                }
                stop.set(true);
            });
            reader.setDaemon(true);
            reader.start();
        }
        AtomicLong acked = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        long sent = 0;
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(withClientConfig(p))) {
            while ((count < 0 && !stop.get()) || (count >= 0 && sent < count)) {
                final String value = prefix + "-" + sent;
                producer.send(new ProducerRecord<>(topic, value), (meta, error) -> {
                    if (error == null) {
                        acked.incrementAndGet();
                        emit("ACK " + value + " " + meta.partition() + " " + meta.offset());
                    } else {
                        failed.incrementAndGet();
                        emit("ERR " + value + " " + error);
                    }
                });
                sent++;
                if (intervalMs > 0) {
                    Thread.sleep(intervalMs);
                }
            }
            producer.flush();
        }
        emit("DONE sent=" + sent + " acked=" + acked.get() + " failed=" + failed.get());
    }

    private static void consume(String bootstrap, String topic, long timeoutMs) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        long deadline = System.currentTimeMillis() + timeoutMs;
        long count = 0;
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(withClientConfig(p))) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofMillis(timeoutMs))) {
                partitions.add(new TopicPartition(topic, info.partition()));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofMillis(timeoutMs));
            while (true) {
                boolean done = true;
                for (TopicPartition tp : partitions) {
                    if (consumer.position(tp, Duration.ofMillis(timeoutMs)) < end.get(tp)) {
                        done = false;
                    }
                }
                if (done) {
                    break;
                }
                if (System.currentTimeMillis() > deadline) {
                    emit("TIMEOUT count=" + count);
                    System.exit(1);
                }
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    emit("MSG " + r.value());
                    count++;
                }
            }
        }
        emit("END count=" + count);
    }
}
