;;;; Raw TCP servers: connection events to Lisp functions, on the loop thread.

(in-package #:c10k)

(defstruct (tcp-server (:include server)
                       (:constructor make-tcp-server (on-open on-data on-drain on-close)))
  "A server passing the bytes of raw TCP connections to Lisp functions."
  (on-open nil :type (or null function))
  (on-data nil :type (or null function))
  (on-drain nil :type (or null function))
  (on-close nil :type (or null function))
  (connections (make-hash-table :synchronized t) :read-only t))

(defstruct (connection (:constructor make-connection (handle)))
  "An accepted TCP connection. Its functions are for the loop thread only,
that is, for the server's callbacks."
  (handle 0 :type (unsigned-byte 64) :read-only t)
  (data nil)
  (%peer nil))

(setf (documentation 'connection-data 'function)
      "A place for the application's own state about the connection.")

(defun connection-of (handle)
  "The CONNECTION object of HANDLE on the current loop."
  (gethash handle (tcp-server-connections *server*)))

(defmacro with-tcp-event ((connection handle) (what) &body body)
  "Runs BODY with CONNECTION found from HANDLE. A condition from BODY is
reported and aborts the connection: it must not unwind into C."
  `(let ((,connection (connection-of ,handle)))
     (when ,connection
       (let ((failure (nth-value 1 (call-capturing-backtrace (lambda () ,@body)))))
         (when failure
           (report-text failure "~A handler failed on connection ~A" ,what
                        (ignore-errors (connection-peer ,connection)))
           (c10k-conn-abort ,handle))))))

(cffi:defcallback tcp-on-open :void ((user-data :pointer) (handle :uint64))
  (with-callback-server (user-data)
    (setf (gethash handle (tcp-server-connections *server*)) (make-connection handle))
    (with-tcp-event (connection handle) ("on-open")
      (alexandria:when-let ((on-open (tcp-server-on-open *server*)))
        (funcall on-open connection)))))

(cffi:defcallback tcp-on-data :void ((user-data :pointer) (handle :uint64)
                                     (data :pointer) (length :size))
  (with-callback-server (user-data)
    (with-tcp-event (connection handle) ("on-data")
      (alexandria:when-let ((on-data (tcp-server-on-data *server*)))
        (funcall on-data connection (view-octets data length))))))

(cffi:defcallback tcp-on-drain :void ((user-data :pointer) (handle :uint64))
  (with-callback-server (user-data)
    (with-tcp-event (connection handle) ("on-drain")
      (alexandria:when-let ((on-drain (tcp-server-on-drain *server*)))
        (funcall on-drain connection)))))

(cffi:defcallback tcp-on-close :void ((user-data :pointer) (handle :uint64) (reason :int32))
  (with-callback-server (user-data)
    (let ((connection (connection-of handle)))
      (remhash handle (tcp-server-connections *server*))
      (alexandria:when-let ((on-close (tcp-server-on-close *server*)))
        (when connection
          (let ((failure (nth-value 1 (call-capturing-backtrace
                                     (lambda () (funcall on-close connection
                                                         (error-keyword reason)))))))
            (when failure (report-text failure "on-close handler failed"))))))))

(defun call-with-tcp-callbacks (function)
  "Calls FUNCTION with the c10k_conn_callbacks of every TCP server."
  (cffi:with-foreign-object (callbacks '(:struct c10k-conn-callbacks))
    (cffi:with-foreign-slots ((size on-open on-data on-end on-drain on-timeout on-close)
                              callbacks (:struct c10k-conn-callbacks))
      (setf size (cffi:foreign-type-size '(:struct c10k-conn-callbacks))
            on-open (cffi:callback tcp-on-open)
            on-data (cffi:callback tcp-on-data)
            on-end (cffi:null-pointer)
            on-drain (cffi:callback tcp-on-drain)
            on-timeout (cffi:null-pointer)
            on-close (cffi:callback tcp-on-close)))
    (funcall function callbacks)))

(defun open-tcp-server (host port on-open on-data on-drain on-close &optional loops)
  "A TCP server listening on HOST:PORT, its loop not yet running: one loop,
or with LOOPS a multi-loop c10k_server."
  (flet ((function-or-nil (f) (and f (alexandria:ensure-function f))))
    (let ((server (make-tcp-server (function-or-nil on-open) (function-or-nil on-data)
                                   (function-or-nil on-drain) (function-or-nil on-close)))
          (address (listen-address host port)))
      (if loops
          (open-multi-loop-server
           server loops
           (lambda (pointer user-data)
             (call-with-tcp-callbacks
              (lambda (callbacks)
                (c10k-server-listen pointer address (cffi:null-pointer) callbacks user-data)))))
          (open-server server
                       (lambda (lp user-data out)
                         (call-with-tcp-callbacks
                          (lambda (callbacks)
                            (c10k-listen lp address (cffi:null-pointer) callbacks user-data
                                         out)))))))))

(defun start-tcp-server (&key (host "127.0.0.1") (port 0) on-open on-data on-drain on-close
                              loops)
  "Accepts TCP connections on HOST:PORT from a new Lisp thread and returns the
server (STOP-SERVER ends it, SERVER-PORT gives the port). The functions run
on that thread, each with the CONNECTION:
  ON-OPEN (connection)          once accepted;
  ON-DATA (connection octets)   bytes arrived, a fresh octet vector;
  ON-DRAIN (connection)         the write queue drained after CONN-WRITE
                                returned :FULL;
  ON-CLOSE (connection reason)  last event; REASON is NIL for a clean close,
                                else a keyword such as :ECONNRESET.
With LOOPS (an integer; 0: one per CPU), that many loops run on the
library's threads, each with its own SO_REUSEPORT listener on the port, and
the functions are called on those threads, several at once (a connection
stays on one loop, so its own events never overlap).
When the peer half-closes, the connection closes once queued output is
written. A condition in ON-OPEN, ON-DATA or ON-DRAIN is reported on the
*ERROR-OUTPUT* in effect at this call and aborts that connection."
  (start-server-thread (open-tcp-server host port on-open on-data on-drain on-close loops)))

(defun conn-write (connection data)
  "Queues a copy of DATA (a string, sent as UTF-8, or octets) for CONNECTION.
Returns T, or :FULL when the queue is above its high-water mark: the bytes
were queued, but wait for ON-DRAIN before writing more. Signals C10K-ERROR
for a closed connection."
  (with-octets (pointer length) (body-octets data)
    (if (= (check (c10k-conn-write (connection-handle connection) pointer length)
                  "c10k_conn_write")
           +queue-full+)
        :full
        t)))

(defun conn-close (connection)
  "Closes CONNECTION once its queued output is written; ON-CLOSE follows
after the current callback. Returns NIL if it was already closing."
  (/= (c10k-conn-close (connection-handle connection)) +eclosed+))

(defun conn-abort (connection)
  "Closes CONNECTION now, dropping queued output; the peer gets a reset."
  (/= (c10k-conn-abort (connection-handle connection)) +eclosed+))

(defun conn-pause-read (connection)
  "Stops ON-DATA for CONNECTION until CONN-RESUME-READ: TCP slows the peer."
  (check (c10k-conn-pause-read (connection-handle connection)) "c10k_conn_pause_read")
  connection)

(defun conn-resume-read (connection)
  "Resumes ON-DATA after CONN-PAUSE-READ."
  (check (c10k-conn-resume-read (connection-handle connection)) "c10k_conn_resume_read")
  connection)

(defun conn-pending (connection)
  "How many bytes are queued for CONNECTION and not yet written."
  (cffi:with-foreign-object (pending :uint64)
    (check (c10k-conn-pending (connection-handle connection) pending) "c10k_conn_pending")
    (cffi:mem-ref pending :uint64)))

(defun connection-peer (connection)
  "The peer's address, \"127.0.0.1:50000\"."
  (or (connection-%peer connection)
      (setf (connection-%peer connection)
            (cffi:with-foreign-pointer-as-string (text +addrstrlen+)
              (check (c10k-conn-peer-addr (connection-handle connection) text +addrstrlen+)
                     "c10k_conn_peer_addr")))))
