;;;; Servers, and the default kind: one c10k loop with one listener, run by
;;;; one Lisp thread (src/multi-loop.lisp has the other kind).
;;;;
;;;; The loop is created and the listener opened on the thread that starts
;;;; the server, so errors (address in use) reach the caller; then the
;;;; thread that runs the loop becomes its loop thread (c10k.h:
;;;; c10k_loop_run_once) and every callback arrives there, inside
;;;; c10k_loop_run_once.
;;;;
;;;; Calls into C that run callbacks or take the library's locks are made
;;;; with interrupts deferred: an interrupt (SIGINT handler, TERMINATE-THREAD,
;;;; the exit of the Lisp) must never unwind through the library's frames.
;;;; It takes effect when the call returns, within one turn.

(in-package #:c10k)

(defconstant +turn-ms+ 50
  "Longest wait of one loop turn: how often the loop thread returns to Lisp,
where deferred interrupts run. c10k_loop_stop wakes it at once.")

(defstruct (server (:constructor nil))
  "A listener on its own c10k loop, whose callbacks run on the loop's Lisp
thread; or, with C-SERVER set, a multi-loop c10k_server."
  (id 0 :type fixnum)
  (loop-pointer (cffi:null-pointer) :type cffi:foreign-pointer)
  (listener (cffi:null-pointer) :type cffi:foreign-pointer)
  (c-server nil :type (or null cffi:foreign-pointer))
  (stop-requested nil)
  (address nil :type (or null string))
  (thread nil)
  (lock (bt:make-lock "c10k server"))
  (closed-p nil)
  (closed-signal (bt:make-condition-variable))
  (report-stream *error-output*))

(defvar *server* nil
  "The server whose callback is running on this thread, bound by every
callback (src/registry.lisp), and on a single-loop server's Lisp thread.")

(defun server-port (server)
  "The port SERVER is bound to: the real one, so :PORT 0 works."
  (let ((address (server-address server)))
    (parse-integer address :start (1+ (position #\: address :from-end t)))))

(defun server-running-p (server)
  "True until SERVER's loop has stopped and been freed."
  (not (server-closed-p server)))

(defmacro with-server-lock ((server) &body body)
  "Runs BODY holding SERVER's lock with interrupts deferred, so that a signal
handler calling STOP-SERVER cannot find the lock held by its own thread."
  `(sb-sys:without-interrupts
     (bt:with-lock-held ((server-lock ,server))
       ,@body)))

(defun listen-address (host port)
  "\"host:port\", bracketing IPv6 hosts, as c10k_listen parses it."
  (format nil (if (find #\: host) "[~A]:~D" "~A:~D") host port))

(defun open-server (server listen)
  "Creates SERVER's loop and calls LISTEN with it, the callbacks' user_data
and a pointer for the listener; on success stores both and the bound
address. Signals C10K-ERROR, leaving nothing open, if either step fails."
  (cffi:with-foreign-objects ((loop-out :pointer) (listener-out :pointer)
                              (text :char +addrstrlen+))
    (check (c10k-loop-new loop-out) "c10k_loop_new")
    (let ((lp (cffi:mem-ref loop-out :pointer)))
      (handler-bind ((error (lambda (c)
                              (declare (ignore c))
                              (c10k-loop-free lp)
                              (unregister-server server))))
        (register-server server)
        (check (funcall listen lp (server-user-data server) listener-out) "listen")
        (let ((listener (cffi:mem-ref listener-out :pointer)))
          (check (c10k-listener-addr listener text +addrstrlen+) "c10k_listener_addr")
          (setf (server-loop-pointer server) lp
                (server-listener server) listener
                (server-address server) (cffi:foreign-string-to-lisp text))))))
  server)

(defun close-server (server)
  "Closes the listener and frees the loop; its connections close with
C10K_ECANCELED, their on-close handlers running here. Runs on the loop
thread. The loop pointer is cleared first, under the lock, so that
STOP-SERVER never calls c10k_loop_stop on a loop being freed."
  (let ((lp (server-loop-pointer server)))
    (with-server-lock (server)
      (setf (server-loop-pointer server) (cffi:null-pointer)))
    (c10k-listener-close (server-listener server))
    (setf (server-listener server) (cffi:null-pointer))
    (let ((code (sb-sys:without-interrupts (c10k-loop-free lp))))
      (unless (zerop code)
        (report (make-condition 'c10k-error :code code :operation "c10k_loop_free")
                "closing ~A" (server-address server))))
    (unregister-server server)
    (mark-closed server)))

(defun mark-closed (server)
  "Records that SERVER is closed and wakes every STOP-SERVER waiting for it."
  (with-server-lock (server)
    (setf (server-closed-p server) t)
    (sb-thread:condition-broadcast (server-closed-signal server))))

(defun run-server (server &optional on-ready)
  "Runs SERVER's loop on the calling thread until STOP-SERVER, then closes it.
ON-READY, if given, is called with SERVER first."
  (setf (server-thread server) (bt:current-thread))
  (let ((*server* server)
        (*report-stream* (server-report-stream server)))
    (unwind-protect
         ;; The loop itself remembers a stop (C10K_STOPPED), even one asked
         ;; before the first turn: so the first turn always runs, and makes
         ;; this thread the loop thread that close-server needs.
         (loop initially (when on-ready (funcall on-ready server))
               for code = (sb-sys:without-interrupts
                            (c10k-loop-run-once (server-loop-pointer server) +turn-ms+))
               until (= code +stopped+)
               when (minusp code)
                 do (report (make-condition 'c10k-error :code code :operation "c10k_loop_run_once")
                            "loop of ~A stopped" (server-address server))
                    (return))
      (close-server server))))

(defun run-any-server (server &optional on-ready)
  "Runs SERVER, of either kind, on the calling thread until it stopped."
  (if (server-c-server server)
      (run-multi-loop-server server on-ready)
      (run-server server on-ready)))

(defun start-server-thread (server)
  "Runs SERVER on a new Lisp thread and returns SERVER."
  (bt:make-thread (lambda () (run-any-server server))
                  :name (format nil "c10k ~A" (server-address server)))
  server)

(defun stop-server (server &key (wait t))
  "Stops SERVER. A single-loop server finishes the current turn, closes the
listener and every connection (on-close handlers run, deferred replies die)
and frees its loop; a multi-loop server stops accepting, lets requests in
flight finish (within the library's shutdown timeout, 5 s) and frees its
loops. With WAIT (the default) returns once that is done, except when
called from one of SERVER's callbacks or its own thread, where it only
asks. Safe from any thread and more than once. Returns SERVER.

From a signal handler pass :WAIT NIL: SBCL may run the handler on one of
the library's threads, and waiting there for the server's shutdown, which
joins that very thread, would never end."
  ;; A multi-loop server's own thread polls this flag (src/multi-loop.lisp).
  (setf (server-stop-requested server) t)
  (with-server-lock (server)
    (let ((lp (server-loop-pointer server)))
      (unless (cffi:null-pointer-p lp)
        (c10k-loop-stop lp))))
  (unless (or (not wait) (eq *server* server) (eq (server-thread server) (bt:current-thread)))
    (with-server-lock (server)
      (loop until (server-closed-p server)
            do (sb-sys:with-local-interrupts
                 (bt:condition-wait (server-closed-signal server) (server-lock server))))))
  server)

(defun open-handles (server)
  "Connections plus listeners open on SERVER's loop, and its timers, as two
values. Loop thread only: call it from a callback."
  (cffi:with-foreign-objects ((sources :size) (timers :size))
    (check (c10k-loop-open-handles (server-loop-pointer server) sources timers)
           "c10k_loop_open_handles")
    (values (cffi:mem-ref sources :size) (cffi:mem-ref timers :size))))
