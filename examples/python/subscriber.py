"""Prints every reading published on the topic (the article's subscriber, made robust).

Subscribes at QoS 1. With MQTT_CLIENT_ID set it keeps a persistent session (clean session 0):
readings published while it is away are queued by the broker and delivered when it comes back.
Host and port come from MQTT_HOST and MQTT_PORT (default localhost:1883). Works with paho-mqtt 1.6
(Debian's python3-paho-mqtt) and 2.x.
"""
import os

import paho.mqtt.client as mqtt

HOST = os.environ.get("MQTT_HOST", "localhost")
PORT = int(os.environ.get("MQTT_PORT", "1883"))
TOPIC = os.environ.get("MQTT_TOPIC", "example/basic")
CLIENT_ID = os.environ.get("MQTT_CLIENT_ID", "")


def on_connect(client, userdata, flags, *rest):
    # subscribing here means a reconnect subscribes again (harmless for a persistent session)
    client.subscribe(TOPIC, qos=1)


def on_message(client, userdata, msg):
    print("Got topic: " + msg.topic + ", message: " + msg.payload.decode("utf-8"), flush=True)


def main():
    durable = CLIENT_ID != ""
    client_id = CLIENT_ID or "example-subscriber-%d" % os.getpid()
    if hasattr(mqtt, "CallbackAPIVersion"):  # paho-mqtt 2.x
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=not durable)
    else:
        client = mqtt.Client(client_id=client_id, clean_session=not durable)
    client.on_connect = on_connect
    client.on_message = on_message
    client.connect(HOST, PORT, keepalive=30)
    client.loop_forever()


if __name__ == "__main__":
    main()
