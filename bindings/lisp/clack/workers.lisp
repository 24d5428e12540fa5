;;;; A few Lisp threads for the applications that must not run on a loop
;;;; thread: those reading a request body, which that loop delivers. They
;;;; start with the first such request: a server that never gets one has
;;;; no idle threads for every garbage collection to stop.

(in-package #:clack.handler.c10k)

(defstruct (workers (:constructor make-workers (count bindings)))
  (count 0 :read-only t)
  (bindings '() :read-only t)
  (lock (bt:make-lock "c10k clack workers"))
  (ready (bt:make-condition-variable))
  (jobs '())
  (threads '()))

(defun start-workers (count bindings)
  "Workers for up to COUNT threads running submitted functions, with the
special BINDINGS (an alist, as BT:*DEFAULT-SPECIAL-BINDINGS*) in effect;
the threads start with the first submitted function."
  (make-workers count bindings))

(defun work (workers)
  "Runs the jobs of WORKERS until it receives :QUIT."
  (loop for job = (with-slots (lock ready jobs) workers
                    (bt:with-lock-held (lock)
                      (loop until jobs do (bt:condition-wait ready lock))
                      (pop jobs)))
        until (eq job :quit)
        do (funcall job)))

(defun start-threads (workers)
  "Starts the threads of WORKERS; with their lock held."
  (setf (workers-threads workers)
        (loop for i below (workers-count workers)
              collect (bt:make-thread (lambda () (work workers))
                                      :name (format nil "c10k clack worker ~D" i)
                                      :initial-bindings (workers-bindings workers)))))

(defun submit (workers function)
  "Runs FUNCTION on one of WORKERS' threads, in the order submitted."
  (with-slots (lock ready jobs threads) workers
    (bt:with-lock-held (lock)
      (unless threads (start-threads workers))
      (setf jobs (nconc jobs (list function)))
      (bt:condition-notify ready))))

(defun stop-workers (workers)
  "Lets WORKERS finish their jobs, then ends their threads."
  (with-slots (lock ready jobs threads) workers
    (let ((running (bt:with-lock-held (lock)
                     (setf jobs (nconc jobs (make-list (length threads) :initial-element :quit)))
                     (sb-thread:condition-broadcast ready)
                     threads)))
      (mapc #'bt:join-thread running))))
