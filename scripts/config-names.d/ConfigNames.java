// Prints the name of every broker and controller configuration the Kafka on the class path
// defines, one per line, sorted: the ConfigDef a KafkaConfig is parsed with. Run by
// scripts/config-names (java's single-file source launcher, Java 11+); its output is the
// package data kraft_entrypoint/config_names/<version>.txt, which the entrypoint checks each
// KAFKA_CFG_* override against.
//
// Where the definition lives, by release (read in each release's jars):
//   3.7+ (and 4.x): org.apache.kafka.server.config.AbstractKafkaConfig.CONFIG_DEF, a static field
//                   (kafka-server 3.9.2, 4.4.0), which KafkaConfig is built from;
//   3.3 - 3.6:      kafka.server.KafkaConfig.configDef() of the Scala object (kafka_2.13 3.3.2).
// and the two configurations KRaft's authorizer reads beyond them (super.users,
// allow.everyone.if.no.acl.found): the *_CONFIG constants of
// org.apache.kafka.metadata.authorizer.StandardAuthorizer (kafka-metadata, 3.3.2 to 4.4.0).
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.TreeSet;
import org.apache.kafka.common.config.ConfigDef;

public class ConfigNames {
  public static void main(String[] args) throws Exception {
    ConfigDef definition;
    String source;
    try {
      Field field = Class.forName("org.apache.kafka.server.config.AbstractKafkaConfig").getField("CONFIG_DEF");
      definition = (ConfigDef) field.get(null);
      source = "org.apache.kafka.server.config.AbstractKafkaConfig.CONFIG_DEF";
    } catch (ClassNotFoundException | NoSuchFieldException absent) {
      Class<?> config = Class.forName("kafka.server.KafkaConfig$");
      Object module = config.getField("MODULE$").get(null);
      definition = (ConfigDef) config.getMethod("configDef").invoke(module);
      source = "kafka.server.KafkaConfig.configDef()";
    }
    TreeSet<String> names = new TreeSet<>(definition.names());
    System.err.println("config-names: " + names.size() + " names from " + source);
    for (Field field : Class.forName("org.apache.kafka.metadata.authorizer.StandardAuthorizer").getFields()) {
      if (Modifier.isStatic(field.getModifiers()) && field.getName().endsWith("_CONFIG")
          && field.getType() == String.class) {
        names.add((String) field.get(null));
      }
    }
    for (String name : names) {
      System.out.println(name);
    }
  }
}
