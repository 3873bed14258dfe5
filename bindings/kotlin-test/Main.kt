// The UniFFI Kotlin bindings against the virtual cam (omv-vcam --tcp), on the JVM through JNA:
// once over the built-in TCP transport, once over a Transport implemented here in Kotlin
// (a java.net.Socket, as an Android app would wrap a UsbSerialPort) feeding received bytes
// back through ByteFeed.
//
//   java -Djna.library.path=DIR -cp jna.jar:kotlin-stdlib.jar:bindings-test.jar MainKt HOST:PORT
//
// Prints one line per check and ends with "kotlin: N passed, M failed"; exits 1 on a failure.

import io.openmv.proto.ByteFeed
import io.openmv.proto.Camera
import io.openmv.proto.CameraException
import io.openmv.proto.ConnectOptions
import io.openmv.proto.ControlUpdate
import io.openmv.proto.ControlValue
import io.openmv.proto.EventListener
import io.openmv.proto.Frame
import io.openmv.proto.PixelFormat
import io.openmv.proto.Transport
import io.openmv.proto.WidgetType
import io.openmv.proto.defaultConnectOptions
import io.openmv.proto.frameToRgb888
import io.openmv.proto.protocolVersion
import java.io.IOException
import java.net.InetSocketAddress
import java.net.Socket
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicLong
import java.util.concurrent.atomic.AtomicReference
import kotlin.system.exitProcess
import kotlin.concurrent.thread

const val WIDTH = 320 // omv-vcam's default frame size
const val HEIGHT = 240
const val NOTIFY = 0xFFFF
const val STREAM_ID = 3

class CheckFailed(message: String) : Exception(message)

fun check(cond: Boolean, what: () -> String) {
    if (!cond) throw CheckFailed(what())
}

fun waitFor(timeoutMs: Long = 5000, cond: () -> Boolean): Boolean {
    val deadline = System.currentTimeMillis() + timeoutMs
    while (System.currentTimeMillis() < deadline) {
        if (cond()) return true
        Thread.sleep(20)
    }
    return cond()
}

inline fun <reified E : Throwable> expectThrows(what: String, block: () -> Unit) {
    try {
        block()
    } catch (e: Throwable) {
        if (e is E) return
        throw CheckFailed("$what: expected ${E::class.simpleName}, got $e")
    }
    throw CheckFailed("$what: expected ${E::class.simpleName}, nothing thrown")
}

/** Collects every event. */
class Recorder : EventListener {
    val events = CopyOnWriteArrayList<Pair<Int, Int>>()
    val lost = CopyOnWriteArrayList<String>()

    override fun onEvent(channel: UByte, code: UShort) {
        events.add(channel.toInt() to code.toInt())
    }

    override fun onLinkLost(reason: String) {
        lost.add(reason)
    }

    override fun onReconnected() {}

    fun count(channel: Int, code: Int) = events.count { it == channel to code }
}

/** Throws from every callback: Rust must log it and carry on, never panic. */
class Thrower : EventListener {
    val calls = AtomicInteger()

    override fun onEvent(channel: UByte, code: UShort) {
        calls.incrementAndGet()
        throw IllegalStateException("listener failure on purpose")
    }

    override fun onLinkLost(reason: String): Unit = throw IllegalStateException("listener failure on purpose")

    override fun onReconnected(): Unit = throw CameraException.Callback("typed failure on purpose")
}

/**
 * An app transport: a socket, read by a thread that pushes what arrives into the feed. With
 * [throwOnClose], closeLink throws after closing (Rust must log it, not panic).
 */
class SocketTransport(
    private val host: String,
    private val port: Int,
    private val throwOnClose: Boolean = false,
) : Transport {
    @Volatile var socket: Socket? = null
    @Volatile private var reader: Thread? = null
    val opened = AtomicInteger()
    val closed = AtomicInteger()
    val written = AtomicLong()

    override fun openLink(feed: ByteFeed) {
        opened.incrementAndGet()
        val s = Socket()
        s.tcpNoDelay = true
        s.connect(InetSocketAddress(host, port), 3000)
        socket = s
        val input = s.getInputStream()
        reader = thread(name = "socket-pump", isDaemon = true) {
            val buf = ByteArray(64 * 1024)
            try {
                while (true) {
                    val n = input.read(buf)
                    if (n < 0) {
                        feed.linkLost("peer closed")
                        break
                    }
                    if (n > 0) feed.push(buf.copyOf(n))
                }
            } catch (e: IOException) {
                feed.linkLost("socket: ${e.message}")
            }
        }
    }

    override fun write(data: ByteArray) {
        val s = socket ?: throw CameraException.LinkLost("socket closed")
        try {
            s.getOutputStream().write(data)
        } catch (e: IOException) {
            throw CameraException.LinkLost("socket: ${e.message}")
        }
        written.addAndGet(data.size.toLong())
    }

    override fun closeLink() {
        closed.incrementAndGet()
        socket?.close()
        socket = null
        val r = reader
        if (r != null && r !== Thread.currentThread()) r.join(5000)
        if (throwOnClose) throw IllegalStateException("closeLink failure on purpose")
    }

    override fun describe() = "kt-socket:$host:$port"
}

/** Every pixel of a grayscale test frame: (x + y + n) % 256, n read from pixel (0, 0). */
fun checkFrame(f: Frame): Int {
    check(f.width == WIDTH.toUInt() && f.height == HEIGHT.toUInt()) { "frame is ${f.width}x${f.height}" }
    check(f.format == PixelFormat.GRAYSCALE) { "format ${f.format}" }
    check(f.formatCode == 0x08020001u) { "format code ${f.formatCode}" }
    check(f.data.size == WIDTH * HEIGHT) { "${f.data.size} pixel bytes" }
    val n = f.data[0].toInt() and 0xFF
    for (y in 0 until HEIGHT) {
        for (x in 0 until WIDTH) {
            val v = f.data[y * WIDTH + x].toInt() and 0xFF
            check(v == (x + y + n) % 256) { "pixel ($x, $y) of frame n=$n is $v" }
        }
    }
    return n
}

/** Everything a host does, through the bindings. */
fun exercise(cam: Camera) {
    check(cam.isConnected()) { "not connected" }
    val names = cam.list().map { it.name }
    for (name in listOf("stdin", "stdout", "stream", "config", "ticks")) {
        check(name in names) { "no $name channel in $names" }
    }
    val stream = cam.channels().first { it.name == "stream" }
    check(stream.id.toInt() == STREAM_ID && stream.readable && stream.needsLock && stream.stream) { "stream is $stream" }
    check(cam.channelId("config").toInt() == 4) { "config id: user channels take the first free id from 1" }
    check(cam.hasChannel("config") && !cam.hasChannel("nope")) { "hasChannel" }

    val rec = Recorder()
    val thrower = Thrower()
    val recId = cam.subscribe(rec)
    cam.subscribe(thrower)

    // config: 64 KiB out and back, fragmented both ways.
    val value = ByteArray(64 * 1024) { ((it * 7 + 3) % 256).toByte() }
    cam.write("config", 0u, value)
    check(cam.size("config") == value.size.toUInt()) { "config size ${cam.size("config")}" }
    check(cam.shape("config") == listOf(value.size.toUInt())) { "config shape" }
    check(cam.read("config", 0u, value.size.toUInt()).contentEquals(value)) { "config read back differs" }
    check(cam.readAvailable("config").contentEquals(value)) { "config readAvailable differs" }

    val caps = cam.caps()
    check(caps.crc && caps.seq && caps.events && caps.maxPayload >= 50u) { "caps $caps" }
    val versions = cam.version()
    check(versions.protocol.major.toInt() == 1 && versions.protocol.minor.toInt() == 0) { "versions $versions" }
    val info = cam.systemInfo()
    check(info.devId.size == 3 && info.chipId.size == 3 && info.hwCaps.size == 2 && info.usbVid.toInt() != 0) { "info $info" }

    // No stream: waitFrame answers null once its timeout has passed, and not much later.
    // A frame published before streaming went off stays until taken (as on the firmware).
    cam.streaming(false, false, null)
    drainHeldFrame(cam)
    val t0 = System.nanoTime()
    check(cam.waitFrame(100u, false) == null) { "a frame with the stream off" }
    val waitedMs = (System.nanoTime() - t0) / 1_000_000
    check(waitedMs in 99..2000) { "waitFrame(100) with no stream took $waitedMs ms" }

    // Frames: three different ones, every pixel checked; each wait brings one.
    cam.streaming(true, false, null)
    val seen = mutableListOf<Int>()
    var waits = 0
    while (seen.size < 3 && waits < 30) {
        waits++
        val frame = cam.waitFrame(3000u, seen.isEmpty()) ?: throw CheckFailed("no frame within 3 s")
        val n = checkFrame(frame)
        if (seen.isEmpty()) {
            val rgb = frame.rgb888 ?: throw CheckFailed("no rgb888 when asked for")
            check(rgb.size == WIDTH * HEIGHT * 3) { "rgb888 of ${rgb.size} bytes" }
            for (i in 0 until WIDTH * HEIGHT) {
                val g = frame.data[i]
                check(rgb[3 * i] == g && rgb[3 * i + 1] == g && rgb[3 * i + 2] == g) { "rgb888 pixel $i" }
            }
            check(frameToRgb888(frame).contentEquals(rgb)) { "frameToRgb888 differs" }
        } else {
            check(frame.rgb888 == null) { "rgb888 when not asked for" }
        }
        if (n !in seen) seen.add(n)
    }
    check(seen.size == 3) { "frames seen: $seen" }
    // readFrame takes one without waiting (null until the next one is ready).
    check(waitFor { cam.readFrame(false)?.let { checkFrame(it) } != null }) { "readFrame brought no frame" }
    check(cam.framesReceived() >= 4uL) { "framesReceived ${cam.framesReceived()}" }
    check(waitFor { rec.count(STREAM_ID, NOTIFY) > 0 }) { "no stream NOTIFY event in ${rec.events}" }
    cam.streaming(false, false, null)
    check(thrower.calls.get() > 0) { "the throwing listener was never called" }

    expectThrows<CameraException.NoSuchChannel>("read of an unknown channel") { cam.read("nope", 0u, 1u) }
    expectThrows<CameraException.InvalidArgument>("raw streaming without resolution") { cam.streaming(true, true, null) }

    val host = cam.hostStats()
    check(host.sent > 0u && host.received > 0u) { "host stats $host" }
    check(cam.deviceStats().received > 0u) { "device stats" }

    check(cam.unsubscribe(recId)) { "unsubscribe" }
    check(!cam.unsubscribe(recId)) { "unsubscribe twice" }
}

/** Takes the frame published before streaming went off, which stays until taken (as on the firmware). */
fun drainHeldFrame(cam: Camera) {
    var held = 0
    while (cam.readFrame(false) != null) check(++held <= 1) { "more than one frame held with the stream off" }
}

fun disconnect(cam: Camera) {
    // A waitFrame on another thread (the stream is off: it would wait 20 s) ends with
    // Disconnected soon after the disconnect, or at once if the disconnect came first.
    drainHeldFrame(cam)
    val outcome = AtomicReference<Throwable?>(null)
    val started = CountDownLatch(1)
    val waiter = thread {
        started.countDown()
        try {
            val f = cam.waitFrame(20_000u, false)
            outcome.set(CheckFailed("waitFrame returned $f"))
        } catch (e: Throwable) {
            outcome.set(e)
        }
    }
    check(started.await(5, TimeUnit.SECONDS)) { "the waiting thread did not start" }
    val t0 = System.nanoTime()
    cam.disconnect()
    waiter.join(10_000)
    val endedMs = (System.nanoTime() - t0) / 1_000_000
    check(!waiter.isAlive) { "waitFrame still waiting 10 s after disconnect" }
    check(outcome.get() is CameraException.Disconnected) { "waitFrame across disconnect: ${outcome.get()}" }
    check(endedMs < 5000) { "waitFrame ended $endedMs ms after disconnect" }
    check(!cam.isConnected()) { "still connected" }
    expectThrows<CameraException.Disconnected>("list after disconnect") { cam.list() }
}

fun main(args: Array<String>) {
    val addr = args.getOrNull(0) ?: run {
        System.err.println("usage: MainKt HOST:PORT")
        exitProcess(2)
    }
    val host = addr.substringBeforeLast(':')
    val port = addr.substringAfterLast(':').toInt()
    var passed = 0
    var failed = 0

    fun test(name: String, body: () -> Unit) {
        val t0 = System.nanoTime()
        try {
            body()
            passed++
            println("PASS $name (${(System.nanoTime() - t0) / 1_000_000} ms)")
        } catch (e: Throwable) {
            failed++
            println("FAIL $name: $e")
            e.printStackTrace()
        }
    }

    test("defaults") {
        val opts = ConnectOptions()
        check(opts == defaultConnectOptions()) { "$opts" }
        check(opts.maxPayload.toInt() == 4082 && opts.timeoutMs == 1000u) { "$opts" }
        check(protocolVersion().major.toInt() == 1) { "protocol version" }
    }

    test("typed controls") {
        val cam = Camera.openTcp(addr, ConnectOptions())
        try {
            val controls = cam.controls("controls")
            val kinds = controls.map { it.widget }.toSet()
            check(kinds == WidgetType.values().toSet() - WidgetType.OTHER) { "${controls.map { it.widgetName }}" }
            cam.setControl("controls", "threshold", ControlValue.Int(42L))
            val t = cam.control("controls", "threshold")
            check(t.value == ControlValue.Int(42L)) { "${t.value}" }
            check(t.widget == WidgetType.SLIDER && t.max == 255.0 && t.integral && t.writable) { "$t" }
            expectThrows<CameraException.InvalidArgument>("out of range") {
                cam.setControl("controls", "threshold", ControlValue.Int(300L))
            }
            cam.setControls(
                "controls",
                listOf(ControlUpdate("mirror", ControlValue.Bool(true)), ControlUpdate("pattern", ControlValue.Text("solid"))),
            )
            check(cam.control("controls", "pattern").value == ControlValue.Text("solid")) { "pattern" }
            check(cam.control("controls", "mirror").value == ControlValue.Bool(true)) { "mirror" }
        } finally {
            // The other tests expect the plain test pattern from this cam.
            cam.setControls(
                "controls",
                listOf(
                    ControlUpdate("threshold", ControlValue.Int(0L)),
                    ControlUpdate("mirror", ControlValue.Bool(false)),
                    ControlUpdate("pattern", ControlValue.Text("gradient")),
                ),
            )
            cam.close()
        }
    }

    test("built-in TCP transport") {
        val cam = Camera.openTcp(addr, ConnectOptions())
        try {
            check(cam.describe() == "tcp:$addr") { cam.describe() }
            exercise(cam)
            disconnect(cam)
        } finally {
            cam.close()
        }
    }

    test("Kotlin Transport over java.net.Socket") {
        val transport = SocketTransport(host, port)
        val cam = Camera.withTransport(transport, ConnectOptions())
        try {
            check(cam.describe() == transport.describe()) { cam.describe() }
            check(transport.opened.get() == 1) { "opened ${transport.opened}" }
            exercise(cam)
            check(transport.written.get() > 64 * 1024) { "written ${transport.written}" }
            disconnect(cam)
            check(transport.closed.get() >= 1) { "closeLink never called" }
        } finally {
            cam.close()
        }
    }

    test("Kotlin Transport: link lost and reconnect") {
        val transport = SocketTransport(host, port, throwOnClose = true)
        val rec = Recorder()
        val cam = Camera.withTransport(transport, ConnectOptions())
        try {
            cam.subscribe(rec)
            // The app's device goes away: the camera hears of it through the feed.
            transport.socket!!.shutdownInput()
            check(waitFor { rec.lost.size == 1 }) { "no onLinkLost" }
            expectThrows<CameraException.LinkLost>("list while lost") { cam.list() }
            cam.reconnect()
            check(transport.opened.get() == 2) { "opened ${transport.opened}" }
            check("config" in cam.list().map { it.name }) { "no config after reconnect" }
            disconnect(cam)
            check(transport.closed.get() >= 2) { "closeLink called ${transport.closed} times" }
        } finally {
            cam.close()
        }
    }

    test("unreachable cam") {
        val s = java.net.ServerSocket(0)
        val free = s.localPort
        s.close()
        expectThrows<CameraException>("connect to a closed port") {
            Camera.openTcp("127.0.0.1:$free", ConnectOptions(timeoutMs = 300u)).close()
        }
    }

    println("kotlin: $passed passed, $failed failed")
    exitProcess(if (failed == 0) 0 else 1)
}
