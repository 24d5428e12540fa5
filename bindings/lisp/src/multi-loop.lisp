;;;; Multi-loop servers: N loops on threads the library owns (c10k_server_*),
;;;; each with its own SO_REUSEPORT listener on the same port, so the kernel
;;;; spreads connections over N cores.
;;;;
;;;; Callbacks arrive on the library's threads: SBCL (x86-64 Linux,
;;;; :sb-thread) adopts a foreign thread for the duration of each callback,
;;;; and callbacks find their server through user_data (src/registry.lisp).
;;;; A Lisp thread owns the server's life: it polls for STOP-SERVER, then
;;;; stops and frees the server. It does not block in c10k_server_wait,
;;;; because a signal handler must be able to run on it, and nothing may
;;;; unwind through the library's frames; c10k_server_free, bounded by the
;;;; shutdown timeout, runs with interrupts deferred.

(in-package #:c10k)

(defparameter *stop-poll-seconds* 0.05
  "How often a multi-loop server's Lisp thread looks for a stop request.")

(defun open-multi-loop-server (server loops listen)
  "Creates a c10k_server of LOOPS loops (0: one per CPU) for SERVER, calls
LISTEN with it and the callbacks' user_data, starts the loops on library
threads and stores the bound address. Signals C10K-ERROR, leaving nothing
open, if a step fails (an address in use, for example)."
  (check-type loops (integer 0))
  (cffi:with-foreign-objects ((config '(:struct c10k-server-config)) (out :pointer)
                              (text :char +addrstrlen+))
    (c10k-server-config-init config (cffi:foreign-type-size '(:struct c10k-server-config)))
    (setf (cffi:foreign-slot-value config '(:struct c10k-server-config) 'loops) loops)
    (check (c10k-server-new config out) "c10k_server_new")
    (let ((pointer (cffi:mem-ref out :pointer)))
      (handler-bind ((error (lambda (c)
                              (declare (ignore c))
                              (sb-sys:without-interrupts (c10k-server-free pointer))
                              (unregister-server server))))
        (register-server server)
        (check (funcall listen pointer (server-user-data server)) "listen")
        (check (sb-sys:without-interrupts (c10k-server-start pointer)) "c10k_server_start")
        (check (c10k-server-addr pointer 0 text +addrstrlen+) "c10k_server_addr")
        (setf (server-c-server server) pointer
              (server-address server) (cffi:foreign-string-to-lisp text)))))
  server)

(defun close-multi-loop-server (server)
  "Stops SERVER's loops gracefully and frees them. The pointer is cleared
first, under the lock, so that SERVER-STATS never reads a freed server."
  (let ((pointer (server-c-server server)))
    (with-server-lock (server)
      (setf (server-c-server server) (cffi:null-pointer)))
    (let ((code (sb-sys:without-interrupts (c10k-server-free pointer))))
      (unless (zerop code)
        (report (make-condition 'c10k-error :code code :operation "c10k_server_free")
                "closing ~A" (server-address server))))
    (unregister-server server)
    (mark-closed server)))

(defun run-multi-loop-server (server &optional on-ready)
  "Waits on the calling thread until STOP-SERVER, then stops and frees
SERVER. ON-READY, if given, is called with SERVER first."
  (setf (server-thread server) (bt:current-thread))
  (unwind-protect
       (progn (when on-ready (funcall on-ready server))
              (loop until (server-stop-requested server)
                    do (sleep *stop-poll-seconds*)))
    (close-multi-loop-server server)))
