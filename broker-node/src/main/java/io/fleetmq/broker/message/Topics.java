package io.fleetmq.broker.message;

/**
 * Validation of topic names and topic filters as MQTT 3.1.1 section 4.7 defines them.
 */
public final class Topics {

  private Topics() {
  }

  /**
   * Checks a topic name taken from a PUBLISH (or a will).
   *
   * @return null when valid, otherwise the reason
   */
  public static String invalidTopicName(String topic) {
    if (topic == null || topic.isEmpty()) {
      return "empty topic name"; // [MQTT-4.7.3-1]
    }
    for (int i = 0; i < topic.length(); i++) {
      char c = topic.charAt(i);
      if (c == '+' || c == '#') {
        return "wildcard in topic name"; // [MQTT-3.3.2-2]
      }
      String bad = invalidChar(c);
      if (bad != null) {
        return bad;
      }
    }
    return null;
  }

  /**
   * Checks a topic filter taken from a SUBSCRIBE or UNSUBSCRIBE.
   *
   * @return null when valid, otherwise the reason
   */
  public static String invalidTopicFilter(String filter) {
    if (filter == null || filter.isEmpty()) {
      return "empty topic filter"; // [MQTT-4.7.3-1]
    }
    int levelStart = 0;
    for (int i = 0; i < filter.length(); i++) {
      char c = filter.charAt(i);
      if (c == '/') {
        levelStart = i + 1;
        continue;
      }
      if (c == '#') {
        // [MQTT-4.7.1-2] '#' occupies a whole level and is the last character
        if (i != levelStart || i != filter.length() - 1) {
          return "'#' must be the last character and occupy a whole level";
        }
      } else if (c == '+') {
        // [MQTT-4.7.1-3] '+' occupies a whole level
        boolean endsLevel = i == filter.length() - 1 || filter.charAt(i + 1) == '/';
        if (i != levelStart || !endsLevel) {
          return "'+' must occupy a whole level";
        }
      } else {
        String bad = invalidChar(c);
        if (bad != null) {
          return bad;
        }
      }
    }
    return null;
  }

  public static boolean hasWildcard(String filter) {
    return filter.indexOf('+') >= 0 || filter.indexOf('#') >= 0;
  }

  private static String invalidChar(char c) {
    if (c == '\u0000') {
      return "U+0000 in topic"; // [MQTT-4.7.3-2]
    }
    if (c == '\uFFFD') {
      // Netty decodes malformed UTF-8 into U+FFFD; we cannot tell it apart from a literal U+FFFD,
      // so both are refused [MQTT-1.5.3-1].
      return "invalid UTF-8 in topic";
    }
    return null;
  }
}
