import { useCallback, useEffect, useRef, useState } from "react";
import type { TopicMessage } from "../topic-handle.ts";
import { useClient } from "./topgun-provider.tsx";

export interface TopicState {
  /** Publishes `data` to the topic (queued while offline, as TopicHandle does). */
  publish: (data: unknown) => void;
  /** The latest message from another publisher since mount (or since `name` changed). */
  lastMessage: TopicMessage | undefined;
}

/**
 * Subscribes to the topic `name` while mounted and calls `onMessage` for each message. A new `onMessage`
 * each render is fine: the latest one is called, without resubscribing.
 */
export function useTopic(name: string, onMessage?: (message: TopicMessage) => void): TopicState {
  const client = useClient();
  const onMessageRef = useRef(onMessage);
  onMessageRef.current = onMessage;
  const [last, setLast] = useState<{ topic: object; message: TopicMessage } | undefined>(undefined);
  const topic = client.getTopic(name);
  useEffect(
    () =>
      topic.subscribe((message) => {
        setLast({ topic, message });
        onMessageRef.current?.(message);
      }),
    [topic],
  );
  const publish = useCallback((data: unknown) => topic.publish(data), [topic]);
  return { publish, lastMessage: last?.topic === topic ? last.message : undefined };
}
