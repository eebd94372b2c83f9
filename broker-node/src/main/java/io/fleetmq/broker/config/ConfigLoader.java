package io.fleetmq.broker.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Resolves every {@link Option}. Precedence: command line, then environment ({@code BROKER_*}),
 * then the YAML file named by {@code config}, then the defaults.
 */
public final class ConfigLoader {

  private ConfigLoader() {
  }

  public static BrokerConfig load(String[] args, Map<String, String> env) {
    Map<Option, String> cli = parseArgs(args);
    Map<Option, String> fromEnv = new EnumMap<>(Option.class);
    for (Option o : Option.values()) {
      String v = env.get(o.envName());
      if (v != null) {
        o.validate(v, "environment " + o.envName());
        fromEnv.put(o, v);
      }
    }
    String file = cli.getOrDefault(Option.CONFIG, fromEnv.getOrDefault(Option.CONFIG, ""));
    Map<Option, String> fromFile = file.isEmpty() ? Map.of() : parseFile(Path.of(file));

    Map<Option, String> values = new EnumMap<>(Option.class);
    for (Option o : Option.values()) {
      String v = cli.get(o);
      if (v == null) {
        v = fromEnv.get(o);
      }
      if (v == null) {
        v = fromFile.get(o);
      }
      values.put(o, v == null ? o.defaultValue() : v);
    }
    return BrokerConfig.from(values);
  }

  static Map<Option, String> parseArgs(String[] args) {
    Map<Option, String> values = new EnumMap<>(Option.class);
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--")) {
        throw new ConfigException("unexpected argument '" + arg + "': options look like --mqtt-port 1883");
      }
      String name = arg.substring(2);
      String value = null;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      Option o = Option.byKey(name);
      if (o == null) {
        throw new ConfigException("unknown option --" + name);
      }
      if (value == null) {
        if (i + 1 >= args.length) {
          throw new ConfigException("missing value for --" + name);
        }
        value = args[++i];
      }
      o.validate(value, "command line");
      values.put(o, value);
    }
    return values;
  }

  static Map<Option, String> parseFile(Path file) {
    Object doc;
    try (Reader r = Files.newBufferedReader(file)) {
      doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
    } catch (IOException e) {
      throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
    } catch (RuntimeException e) {
      throw new ConfigException("config file " + file + " is not valid YAML: " + e.getMessage());
    }
    Map<Option, String> values = new EnumMap<>(Option.class);
    if (doc == null) {
      return values;
    }
    if (!(doc instanceof Map<?, ?> map)) {
      throw new ConfigException("config file " + file + " must be a YAML mapping of option: value");
    }
    for (Map.Entry<?, ?> e : map.entrySet()) {
      String key = String.valueOf(e.getKey());
      Option o = Option.byKey(key);
      if (o == null || o == Option.CONFIG) {
        throw new ConfigException("unknown option '" + key + "' in config file " + file);
      }
      Object raw = e.getValue();
      String value = raw instanceof List<?> l
          ? String.join(",", l.stream().map(String::valueOf).toList())
          : raw == null ? "" : String.valueOf(raw);
      o.validate(value, "config file " + file);
      values.put(o, value);
    }
    return values;
  }
}
