// HostTour.kt HOST:PORT: the host side in Kotlin (UniFFI bindings, package io.openmv.proto):
// connect, list the channels, push a command, pull a frame, count the cam's events.
// Compiled by scripts/test-docs.sh with kotlinc against bindings/kotlin and JNA, then run.

// ANCHOR: open
import io.openmv.proto.Camera
import io.openmv.proto.ConnectOptions
import io.openmv.proto.EventListener
// ANCHOR_END: open
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import kotlin.system.exitProcess

// ANCHOR: events
/** Runs on the client's event thread. */
class StreamWatcher : EventListener {
    val notified = CountDownLatch(1)
    override fun onEvent(channel: UByte, code: UShort) {
        if (channel.toInt() == 3 && code.toInt() == 0xFFFF) notified.countDown() // stream NOTIFY
    }
    override fun onLinkLost(reason: String) = println("link lost: $reason")
    override fun onReconnected() {}
}
// ANCHOR_END: events

fun fail(what: String): Nothing {
    System.err.println("HostTour: $what")
    exitProcess(1)
}

fun main(args: Array<String>) {
    val addr = args.getOrNull(0) ?: fail("usage: HostTourKt HOST:PORT")
    // ANCHOR: connect
    val cam = Camera.openTcp(addr, ConnectOptions()) // or Camera.openSerial(path, options)
    // ANCHOR_END: connect
    try {
        // ANCHOR: list
        for (ch in cam.list()) println("channel ${ch.id} ${ch.name} flags ${ch.flags}")
        // ANCHOR_END: list
        val watcher = StreamWatcher()
        cam.subscribe(watcher)

        // ANCHOR: push
        cam.write("config", 0u, "threshold=60\n".toByteArray())
        val back = cam.readAvailable("config")
        println("config holds ${String(back).trim()}")
        // ANCHOR_END: push
        if (String(back) != "threshold=60\n") fail("config read back ${String(back)}")

        // ANCHOR: pull
        cam.streaming(true, false, null)
        // Sleeps until the cam announces a frame; null if none came within 10 s.
        val frame = cam.waitFrame(10_000u, false) ?: fail("no frame within 10 s")
        println("frame: ${frame.width}x${frame.height} ${frame.format}, ${frame.data.size} bytes")
        // ANCHOR_END: pull
        if (frame.data.size != (frame.width * frame.height).toInt()) fail("a grayscale frame of ${frame.data.size} bytes")
        if (!watcher.notified.await(5, TimeUnit.SECONDS)) fail("no stream NOTIFY event")
        cam.streaming(false, false, null)
    } finally {
        cam.close()
    }
    println("HostTour.kt: ok")
}
