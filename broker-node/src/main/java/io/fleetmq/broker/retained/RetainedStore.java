package io.fleetmq.broker.retained;

import io.fleetmq.broker.message.Message;
import io.vertx.core.Future;
import java.util.List;

/** Retained messages, one per topic, shared by every node. */
public interface RetainedStore {

  /** Stores the message as the topic's retained message, or deletes it when the payload is empty. */
  Future<Void> put(Message message);

  /** The retained messages whose topics the filter matches. */
  Future<List<Message>> match(String filter);
}
