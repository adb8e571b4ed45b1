#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// POSIX threads, a mutex and a condition variable: Dispatch or Foundation
// would cost start-up time in every run, batch or not.

/// Runs jobs `0..<count` on up to `threads` threads and hands each result to
/// `deliver` on the calling thread in index order, as soon as it and every
/// job before it are done: work finishes in any order, output keeps the
/// input's. Each thread first calls `makeWorker` for its own job function
/// (and whatever state it keeps, such as a connection). `progress` gets the
/// number of finished jobs at least every `interval` seconds while the
/// caller waits. When `deliver` throws, no new job starts; the running ones
/// finish, then the error is rethrown.
func parallelMapInOrder<Result: Sendable>(
    count: Int, threads: Int, interval: Double = 0.1,
    makeWorker: @escaping @Sendable () -> (Int) -> Result,
    progress: (Int) -> Void,
    deliver: (Int, Result) throws(ThumbnailError) -> Void
) throws(ThumbnailError) {
    guard count > 0 else { return }
    let queue = JobQueue<Result>(count: count)
    var started: [pthread_t] = []
    for _ in 0..<min(threads, count) {
        guard let thread = startThread({ queue.work(makeWorker()) }) else { break }
        started.append(thread)
    }
    defer { for thread in started { pthread_join(thread, nil) } }
    guard !started.isEmpty else {
        throw ThumbnailError(.internalFailure, "threads", "cannot start a thread: \(errnoText())")
    }
    var delivered = 0
    while delivered < count {
        let (ready, finished) = queue.takeReady(from: delivered, waitingAtMost: interval)
        do throws(ThumbnailError) {
            for result in ready {
                try deliver(delivered, result)
                delivered += 1
            }
        } catch {
            queue.stop()
            throw error
        }
        progress(finished)
    }
}

/// The state the threads share, behind one mutex.
private final class JobQueue<Result: Sendable>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var results: [Result?]
    private var next = 0
    private var finished = 0
    private var stopped = false

    init(count: Int) {
        results = Array(repeating: nil, count: count)
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(changed, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        changed.deallocate()
        mutex.deallocate()
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }

    /// A thread's loop: take the next job, run it, store its result.
    func work(_ job: (Int) -> Result) {
        while let index = locked({ () -> Int? in
            guard !stopped, next < results.count else { return nil }
            next += 1
            return next - 1
        }) {
            let result = job(index)
            locked {
                results[index] = result
                finished += 1
                pthread_cond_signal(changed)
            }
        }
    }

    func stop() { locked { stopped = true } }

    /// The finished results from `index` on with no gap, waiting up to
    /// `seconds` for the first; and how many jobs are finished in all.
    func takeReady(from index: Int, waitingAtMost seconds: Double) -> ([Result], Int) {
        locked {
            if results[index] == nil {
                var deadline = timespec()
                clock_gettime(CLOCK_MONOTONIC, &deadline)
                let nanoseconds = Int(deadline.tv_nsec) + Int(seconds * 1e9)
                deadline.tv_sec += nanoseconds / 1_000_000_000
                deadline.tv_nsec = nanoseconds % 1_000_000_000
                while results[index] == nil, pthread_cond_timedwait(changed, mutex, &deadline) == 0 {}
            }
            var ready: [Result] = []
            while index + ready.count < results.count, let result = results[index + ready.count] {
                results[index + ready.count] = nil
                ready.append(result)
            }
            return (ready, finished)
        }
    }
}

/// Runs `body` on a POSIX thread of its own, for `pthread_join`; nil when
/// no thread can be started.
func startThread(_ body: @escaping () -> Void) -> pthread_t? {
    var thread = pthread_t()
    let raw = Unmanaged.passRetained(ThreadStart(body)).toOpaque()
    let status = pthread_create(
        &thread, nil,
        { raw in
            Unmanaged<ThreadStart>.fromOpaque(raw!).takeRetainedValue().body()
            return nil
        }, raw)
    guard status == 0 else {
        Unmanaged<ThreadStart>.fromOpaque(raw).release()
        return nil
    }
    return thread
}

private final class ThreadStart {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}
