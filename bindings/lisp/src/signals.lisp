;;;; Stopping on SIGINT and SIGTERM, without ever losing the signal.
;;;;
;;;; A server with :LOOPS calls Lisp on the library's threads, which SBCL
;;;; adopts for each callback. When such a callback ends, SBCL's thread
;;;; exit (src/code/target-thread.lisp, RUN) drops any interrupt deferred
;;;; at that moment (it sets *INTERRUPT-PENDING* to NIL; its comment names
;;;; SIGINT as the victim), and SIGINT is unblocked there: a signal the
;;;; kernel hands to a library thread while it leaves a callback is lost.
;;;; So every callback blocks the stop signals as its last act, and they
;;;; stay blocked until SBCL has let go of the thread (it then restores the
;;;; thread's mask). Meanwhile the kernel gives a process-wide signal to
;;;; another thread, and one aimed at this thread waits until the thread is
;;;; foreign again, where SBCL sends it on to the process (or until the body
;;;; of its next callback, where it runs at once).

(in-package #:c10k)

(defconstant +sig-block+ 0 "SIG_BLOCK of pthread_sigmask (Linux).")
(defconstant +sigset-bytes+ 128 "sizeof (sigset_t) on Linux.")

(cffi:defcfun ("pthread_sigmask" %pthread-sigmask) :int
  (how :int) (set :pointer) (old :pointer))
(cffi:defcfun ("sigemptyset" %sigemptyset) :int (set :pointer))
(cffi:defcfun ("sigaddset" %sigaddset) :int (set :pointer) (signal :int))

(defvar *stop-signal-set*
  (let ((set (cffi:foreign-alloc :uint8 :count +sigset-bytes+)))
    (%sigemptyset set)
    (dolist (signal (list sb-unix:sigint sb-unix:sigterm sb-unix:sighup sb-unix:sigquit) set)
      (%sigaddset set signal)))
  "SIGINT, SIGTERM, SIGHUP and SIGQUIT: the signals that stop programs.")

(declaim (inline foreign-thread-p))
(defun foreign-thread-p ()
  "True on a thread SBCL adopted for a callback (a library thread)."
  (typep sb-thread:*current-thread* 'sb-thread::foreign-thread))

(defun block-stop-signals ()
  "Blocks the stop signals on the calling thread."
  (%pthread-sigmask +sig-block+ *stop-signal-set* (cffi:null-pointer)))

;;; SB-SYS:ENABLE-INTERRUPT does not return the handler it replaces, so the
;;; handlers put back are SBCL's own (an interactive interrupt, an exit).
(defun signal-number-and-default (name)
  "The number of signal NAME (:int or :term) and SBCL's usual handler for it."
  (ecase name
    (:int (values sb-unix:sigint #'sb-unix::sigint-handler))
    (:term (values sb-unix:sigterm #'sb-unix::sigterm-handler))))

(defun call-with-signals-stopping (server signals function)
  "Calls FUNCTION with each of SIGNALS (:int, :term) stopping SERVER."
  (flet ((install (name handler)
           (sb-sys:enable-interrupt (signal-number-and-default name) handler)))
    (unwind-protect
         (progn
           (dolist (name signals)
             (install name (lambda (&rest arguments)
                             (declare (ignore arguments))
                             (stop-server server :wait nil))))
           (funcall function))
      (dolist (name signals)
        (install name (nth-value 1 (signal-number-and-default name)))))))
